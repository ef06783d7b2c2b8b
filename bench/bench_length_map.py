"""``convtrace.length_map`` timings on real architectures (random weights, nothing
downloaded): the EnCodec encoder over 101 lengths and the wav2vec2 feature encoder over 400.
The model is recorded once; the lengths are computed by convtrace's arithmetic and a few are
confirmed by real runs (or, where the arithmetic does not describe the model, all are run).

    PYTHONPATH=src python bench/bench_length_map.py
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    import torch
    import transformers

    from convtrace.inspect import inspect_model, length_map

    torch.manual_seed(0)
    encodec = transformers.EncodecModel(transformers.EncodecConfig()).eval().encoder
    wav2vec2 = transformers.Wav2Vec2Model(transformers.Wav2Vec2Config(num_hidden_layers=2)).eval()
    full = transformers.EncodecModel(transformers.EncodecConfig()).eval()
    cases = [
        ("EnCodec encoder", encodec, (1, 1, 24000), range(1000, 1101)),
        ("EnCodec (encoder, quantizer, decoder)", full, (1, 1, 24000), range(1000, 1101)),
        ("wav2vec2", wav2vec2, (1, 16000), range(16000, 16400)),
        ("wav2vec2 feature encoder", wav2vec2.feature_extractor, (1, 16000), range(16000, 16400)),
    ]
    for name, model, shape, lengths in cases:
        middle = (*shape[:-1], sorted(lengths)[len(lengths) // 2])
        start = time.perf_counter()
        inspect_model(model, middle)  # what the map records first (warm caches aside)
        record = time.perf_counter() - start
        start = time.perf_counter()
        result = length_map(model, shape, lengths)
        total = time.perf_counter() - start
        print(f"{name}: {len(result.entries)} lengths in {total:.2f} s, {total - record:.2f} s after the first "
              f"recording ({record:.2f} s); method {result.method}, confirmed by runs: {len(result.confirmed)}"
              + (f" ({result.reason})" if result.reason else ""))

if __name__ == "__main__":
    main()
