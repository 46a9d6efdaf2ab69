"""Validation of float32 and hybrid models: within tolerance of the reference, not bit-exact.

Float results depend on summation order and on the libm (`expf`), so a float model's
outputs are compared with BUILTIN_REF's by error figures: max absolute error, max error
relative to the output's largest reference magnitude, and top-1 / top-k agreement of the
first output (class scores).  A float32 model passes with `numpy.allclose(got, ref, rtol,
atol)`; a hybrid model with max |err| <= hybrid_tol · max |ref| per output, because the
reference hybrid kernels quantize activations to int8 at run time and we compute them in
float (frontend/floatmodel.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .mismatch import first_difference


@dataclass
class FloatAgreement:
    """Error figures accumulated over samples and outputs."""

    numerics: str
    atol: float
    rtol: float
    hybrid_tol: float
    max_abs_err: float = 0.0
    max_rel_err: float = 0.0
    top1: list[bool] = field(default_factory=list)
    topk: list[bool] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def add(self, sample: int, output: int, got: np.ndarray, want: np.ndarray, label: str = "") -> None:
        """Accumulate one output; `label` names it in a failure (`output 0 'logits'`)."""
        label = label or f"output {output}"
        got64 = np.asarray(got, np.float64)
        want64 = np.asarray(want, np.float64).reshape(got64.shape)
        err = np.abs(got64 - want64)
        abs_err = float(err.max(initial=0.0))
        scale = float(np.abs(want64).max(initial=0.0))
        rel_err = abs_err / scale if scale > 0 else (0.0 if abs_err == 0 else float("inf"))
        self.max_abs_err = max(self.max_abs_err, abs_err)
        self.max_rel_err = max(self.max_rel_err, rel_err)
        if not np.all(np.isfinite(got64)):
            bad = ~np.isfinite(got64)
            self.failures.append(f"sample {sample} {label}: {int(np.count_nonzero(bad))} non-finite values, "
                                 f"{first_difference(bad, got64, want64)}")
        elif self.numerics == "hybrid":
            if rel_err > self.hybrid_tol:
                self.failures.append(f"sample {sample} {label}: max |err| {abs_err:.3g} is "
                                     f"{rel_err:.3g} of max |ref| (hybrid_tol {self.hybrid_tol:g})")
        elif not np.allclose(got64, want64, rtol=self.rtol, atol=self.atol):
            beyond = err > self.atol + self.rtol * np.abs(want64)
            self.failures.append(f"sample {sample} {label}: {int(np.count_nonzero(beyond))} values beyond atol "
                                 f"{self.atol:g} + rtol {self.rtol:g}, max |err| {abs_err:.3g}, "
                                 f"{first_difference(beyond, got64, want64)}")
        if output == 0 and got64.size > 1:
            self.top1.append(bool(np.argmax(got64) == np.argmax(want64)))
            k = min(5, got64.size)
            self.topk.append(set(np.argsort(-got64.ravel())[:k]) == set(np.argsort(-want64.ravel())[:k]))

    def fields(self, samples: int) -> dict:
        """The RunResult fields: validation `allclose` or `mismatch` with its detail."""
        summary = f"max |err| {self.max_abs_err:.2g}, max rel {self.max_rel_err:.2g}"
        if self.top1:
            summary += f", top-1 {sum(self.top1)}/{len(self.top1)}"
        return {
            "validation": "mismatch" if self.failures else "allclose",
            "validated_samples": samples,
            "validation_detail": "; ".join(self.failures) if self.failures else summary,
            "max_abs_err": self.max_abs_err,
            "max_rel_err": self.max_rel_err,
            "top1_agreement": float(np.mean(self.top1)) if self.top1 else None,
            "topk_agreement": float(np.mean(self.topk)) if self.topk else None,
        }
