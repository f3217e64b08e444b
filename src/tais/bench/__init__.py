"""`tais bench`: the harness's speed against side-by-side floors."""
