"""Train the tiny bundled models: one shared byte-level BPE tokenizer and three Llama models.

    python scripts/train_tiny_models.py --out bundle/models

Writes <out>/tiny-target (4 layers), <out>/tiny-draft (1 layer, same corpus) and
<out>/tiny-draft-adversarial (1 layer, adversarial corpus). Each folder holds the weights
(safetensors, float32), config.json, generation_config.json and a copy of the tokenizer files,
so it loads on its own in vLLM or transformers. The corpus comes from scripts/demo_content.py.

Deterministic: fixed seeds, a fixed thread count and torch's deterministic algorithms; the
training batches are drawn by a seeded generator. Reruns on the same machine (same torch
build, same thread count) reproduce the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import demo_content

PAD, BOS, EOS = "<|pad|>", "<|bos|>", "<|eos|>"
SYSTEM, USER, ASSISTANT = "<|system|>", "<|user|>", "<|assistant|>"
SPECIAL_TOKENS = [PAD, BOS, EOS, SYSTEM, USER, ASSISTANT]  # ids 0..5
VOCAB_SIZE = 512
MAX_LEN = 512

CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}<|system|>{{ message['content'] }}"
    "{% elif message['role'] == 'user' %}<|user|>{{ message['content'] }}"
    "{% elif message['role'] == 'assistant' %}<|assistant|>{{ message['content'] }}{{ eos_token }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)

# Per model: layers, corpus (adversarial or normal), optimiser steps, seed. The drafts are
# trained briefly on purpose: on the demo battery the 1-layer draft's tokens are accepted by the
# target about 77% of the time (3 speculative tokens), not ~100%.
MODELS: dict[str, dict] = {
    "tiny-target": {"layers": 4, "adversarial": False, "steps": 700, "seed": 1},
    "tiny-draft": {"layers": 1, "adversarial": False, "steps": 250, "seed": 2},
    "tiny-draft-adversarial": {"layers": 1, "adversarial": True, "steps": 250, "seed": 3},
}
HIDDEN = 128
INTERMEDIATE = 256
HEADS = 4
HEAD_DIM = 32
BATCH = 32
LR = 3e-3
WARMUP = 50
THREADS = 2


def corpus_texts() -> list[str]:
    texts = []
    for adversarial in (False, True):
        for user, assistant in demo_content.training_conversations(adversarial):
            texts.extend([user, assistant])
    return texts


def build_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        min_frequency=2,
        show_progress=False,
    )
    tok.train_from_iterator(corpus_texts(), trainer)
    for i, s in enumerate(SPECIAL_TOKENS):
        assert tok.token_to_id(s) == i, (s, tok.token_to_id(s))
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        model_max_length=MAX_LEN,
        padding_side="right",
        clean_up_tokenization_spaces=False,
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def save_tokenizer(tokenizer, folder: Path) -> None:
    """Save the tokenizer files in a form that loads in transformers 4.x and 5.x alike: the
    generic PreTrainedTokenizerFast class and the chat template inline in tokenizer_config.json
    (transformers 5 writes a separate chat_template.jinja and its own class name)."""
    tokenizer.save_pretrained(folder)
    cfg_path = folder / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    for key in ("is_local", "local_files_only", "name_or_path"):
        cfg.pop(key, None)
    cfg["tokenizer_class"] = "PreTrainedTokenizerFast"
    cfg["chat_template"] = CHAT_TEMPLATE
    cfg["added_tokens_decoder"] = {
        str(i): {
            "content": s,
            "lstrip": False,
            "normalized": False,
            "rstrip": False,
            "single_word": False,
            "special": True,
        }
        for i, s in enumerate(SPECIAL_TOKENS)
    }
    cfg_path.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    jinja = folder / "chat_template.jinja"
    if jinja.exists():
        jinja.unlink()


def encode_pairs(tokenizer, pairs):
    """(input_ids, labels) per conversation; labels are -100 outside the assistant's reply."""
    examples = []
    for user, assistant in pairs:
        prompt = tokenizer.apply_chat_template(
            [{"role": "user", "content": user}], add_generation_prompt=True, tokenize=False
        )
        full = tokenizer.apply_chat_template(
            [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}],
            tokenize=False,
        )
        p_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        f_ids = tokenizer(full, add_special_tokens=False)["input_ids"]
        assert f_ids[: len(p_ids)] == p_ids, (prompt, full)
        assert f_ids[-1] == tokenizer.eos_token_id and len(f_ids) <= MAX_LEN
        labels = [-100] * len(p_ids) + f_ids[len(p_ids) :]
        examples.append((f_ids, labels))
    return examples


def make_config(tokenizer, layers: int):
    from transformers import LlamaConfig

    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=HIDDEN,
        intermediate_size=INTERMEDIATE,
        num_hidden_layers=layers,
        num_attention_heads=HEADS,
        num_key_value_heads=HEADS,
        head_dim=HEAD_DIM,
        max_position_embeddings=MAX_LEN,
        rms_norm_eps=1e-5,
        rope_theta=10000.0,
        tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        hidden_act="silu",
        attention_bias=False,
        mlp_bias=False,
    )
    config.dtype = "float32"
    return config


def train_model(tokenizer, name: str, spec: dict, out_dir: Path) -> dict:
    import torch
    from transformers import GenerationConfig, LlamaForCausalLM

    t0 = time.perf_counter()
    torch.manual_seed(spec["seed"])
    pairs = demo_content.training_conversations(spec["adversarial"])
    examples = encode_pairs(tokenizer, pairs)
    model = LlamaForCausalLM(make_config(tokenizer, spec["layers"])).float()
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=LR, betas=(0.9, 0.98), weight_decay=0.01)
    steps = spec["steps"]

    def lr_at(step: int) -> float:
        if step < WARMUP:
            return (step + 1) / WARMUP
        progress = (step - WARMUP) / max(1, steps - WARMUP)
        return 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    gen = torch.Generator().manual_seed(spec["seed"])
    pad = tokenizer.pad_token_id
    losses = []
    for _ in range(steps):
        idx = torch.randint(len(examples), (BATCH,), generator=gen).tolist()
        batch = [examples[i] for i in idx]
        width = max(len(ids) for ids, _ in batch)
        input_ids = torch.full((BATCH, width), pad, dtype=torch.long)
        labels = torch.full((BATCH, width), -100, dtype=torch.long)
        mask = torch.zeros((BATCH, width), dtype=torch.long)
        for row, (ids, lab) in enumerate(batch):
            input_ids[row, : len(ids)] = torch.tensor(ids)
            labels[row, : len(lab)] = torch.tensor(lab)
            mask[row, : len(ids)] = 1
        loss = model(input_ids=input_ids, attention_mask=mask, labels=labels).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())

    model.eval()
    target = out_dir / name
    target.mkdir(parents=True, exist_ok=True)
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model.save_pretrained(target, safe_serialization=True)
    save_tokenizer(tokenizer, target)
    n_params = sum(p.numel() for p in model.parameters())
    tail = losses[-50:]
    return {
        "name": name,
        "params": n_params,
        "final_loss": sum(tail) / len(tail),
        "seconds": time.perf_counter() - t0,
        "weights_bytes": (target / "model.safetensors").stat().st_size,
        "weights_sha256": hashlib.sha256((target / "model.safetensors").read_bytes()).hexdigest(),
        "n_examples": len(examples),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bundle/models", help="output folder")
    parser.add_argument("--only", nargs="*", choices=sorted(MODELS), help="train only these")
    args = parser.parse_args(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)

    t_all = time.perf_counter()
    out_dir = Path(args.out)
    tokenizer = build_tokenizer()
    # Round-trip through disk so training uses exactly the tokenizer that is shipped.
    with tempfile.TemporaryDirectory() as tmp:
        from transformers import AutoTokenizer

        save_tokenizer(tokenizer, Path(tmp))
        tokenizer = AutoTokenizer.from_pretrained(tmp)
        assert tokenizer.chat_template == CHAT_TEMPLATE
    print(f"tokenizer: vocab {len(tokenizer)}, specials {SPECIAL_TOKENS}", flush=True)
    for name in args.only or list(MODELS):
        r = train_model(tokenizer, name, MODELS[name], out_dir)
        print(
            f"{r['name']}: params {r['params']:,}, examples {r['n_examples']}, "
            f"final loss (mean of last 50 steps) {r['final_loss']:.4f}, "
            f"wall {r['seconds']:.1f} s, weights {r['weights_bytes']:,} B, "
            f"sha256 {r['weights_sha256'][:16]}",
            flush=True,
        )
    print(f"total wall time {time.perf_counter() - t_all:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
