"""Row-band tiling for int32-output conv engines (`fused_requant=false`).

Without tiling, the device writes a layer's whole int32 result into the arena and TVM's CPU
kernel requantizes it afterwards (vww with QVanilla: 184,320 B RAM vs 55,296 B CPU-only).
With `band_scratch_bytes` (`requant.BandSettings`), the backend takes the requantization too
(`OffloadPattern(requant=True, banded=True)`) and its driver runs the job band by band: a
sub-job per band of output rows (input rows with their halo, `c/mlml_bands.h`) into one
static int32 scratch, then the CPU requantizes that band into the int8 output.  The device
still only computes int32 (that is what `fused_requant=false` models); one job per band.
"""

from __future__ import annotations

from typing import Callable

from .backend import CArgs, ConvRegion, OffloadPattern
from .spec_backend import emit_job_literals


class BandedConv:
    """Mixin for a `SpecBackend` whose settings include `RequantSettings` and `BandSettings`."""

    settings: object
    name: str

    def banded(self) -> bool:
        return not self.settings.fused_requant and self.settings.band_scratch_bytes > 0

    def banded_pattern(self, name: str, check: Callable[[ConvRegion], str | None]) -> OffloadPattern:
        """The pattern taking a conv with its requantization, run in bands (register it first:
        a layer it refuses falls to the plain int32 pattern: one whose row does not fit the
        scratch, or whose whole result does, where tiling would save nothing)."""
        def check_banded(region: ConvRegion) -> str | None:
            if region.requant is None:
                return "no requantization follows: nothing to tile"
            if region.requant.rounding != "double":
                return "banded requantization implements the conv's double rounding only"
            rows = self.band_rows(region)
            if rows == 0:
                return f"one output row exceeds band_scratch_bytes={self.settings.band_scratch_bytes}"
            if rows == region.output_shape[1]:
                return f"the whole int32 result fits band_scratch_bytes={self.settings.band_scratch_bytes}"
            return check(region)
        return OffloadPattern(name=name, kind="conv2d", check=check_banded, requant=True, banded=True)

    def band_rows(self, region: ConvRegion) -> int:
        """Output rows per band: as many as the scratch holds (0: not even one)."""
        _, oh, ow, oc = region.output_shape
        return min(self.settings.band_scratch_bytes // (ow * oc * 4), oh)

    def device_jobs(self, region: ConvRegion) -> int:
        if region.requant is None or not self.banded():
            return 1
        return -(-region.output_shape[1] // self.band_rows(region))

    def emit_banded(self, job_name: str, job, region: ConvRegion, args: CArgs) -> str:
        """`<name>_<job>_banded(&job, &requant, rows, in, w, b, out, mult, shift)`."""
        from .requant import RequantJob
        literals = emit_job_literals([(f"{self.name}_{job_name}_params_t", job),
                                      (f"{self.name}_requant_params_t", RequantJob.of(region.requant))])
        ptrs = [args.input, args.weight, args.bias, args.output, args.multiplier, args.shift]
        sep = ",\n        "
        return (f"if ({self.name}_{job_name}_banded({sep.join([*literals, str(self.band_rows(region))])}"
                f"{sep}{', '.join(ptrs)}) != 0) abort();")
