"""The cost models (`cost_model=simple|detailed`) on worked examples, figures by hand."""

from __future__ import annotations

import pytest

from mlonmcu_lite.peripheral import PeripheralConfigError, load_backend
from mlonmcu_lite.peripheral.conv import ConvJob
from mlonmcu_lite.peripheral.cost_detailed import CostModelSettings, LayerWork, run_totals, tile_job
from mlonmcu_lite.peripheral.depthwise import DepthwiseJob
from mlonmcu_lite.peripheral.settings import validate_settings

# 3x3 conv, 8x8x16 -> 8x8x24 (same): 64 px, 24 out channels, 144 taps
CONV = ConvJob(8, 8, 16, 8, 8, 24, 3, 3, pad_top=1, pad_left=1, pad_bottom=1, pad_right=1)
# 3x3 depthwise, 10x10x20 -> 5x5x20 (stride 2, valid-ish padding 0/1)
DW = DepthwiseJob(10, 10, 20, 5, 5, 20, 3, 3, 2, 2, 0, 0, 1, 1)


def settings(**kw) -> CostModelSettings:
    return validate_settings("test", CostModelSettings, kw)


def test_layer_work_of_conv_and_depthwise_jobs():
    conv, dw = LayerWork.of(CONV), LayerWork.of(DW)
    assert (conv.out_pixels, conv.out_channels, conv.taps) == (64, 24, 144)
    assert conv.macs == CONV.macs == 64 * 24 * 144
    assert (conv.input_bytes, conv.weight_bytes, conv.bias_bytes, conv.output_bytes) == (
        1024, 24 * 9 * 16, 96, 4 * 64 * 24)
    assert (dw.out_pixels, dw.out_channels, dw.taps) == (25, 20, 9)
    assert dw.macs == DW.macs == 25 * 20 * 9
    assert (dw.input_bytes, dw.weight_bytes, dw.bias_bytes, dw.output_bytes) == (
        2000, 180, 80, 2000)


def test_simple_model_is_issue_5s_formula():
    s = settings(setup_cycles=7, macs_per_cycle=10)
    cost = s.job_cost(LayerWork.of(CONV))
    assert cost.cycles == s.job_cycles(CONV.macs) == 7 + -(-221184 // 10) == 7 + 22119
    assert cost.compute_cycles == 22119 and cost.pe_cycles == 221190
    assert cost.utilisation == pytest.approx(221184 / 221190)
    assert cost.load_cycles == cost.store_cycles == 0  # DMA reported, not charged
    assert cost.dma_bytes == 1024 + 3456 + 96 + 6144


def test_detailed_conv_maps_channels_to_lanes_and_taps_to_multipliers():
    # 16 multipliers as 4 lanes x 4 taps: 64 px * ceil(24/4)=6 * ceil(144/4)=36
    s = settings(cost_model="detailed", setup_cycles=10, macs_per_cycle=16, pe_lanes=4,
                 dma_bytes_per_cycle=8)
    cost = s.job_cost(LayerWork.of(CONV))
    assert cost.compute_cycles == 64 * 6 * 36 == 13824
    assert cost.utilisation == 1.0  # 24 % 4 == 0 and 144 % 4 == 0
    assert cost.load_cycles == -(-(1024 + 3456 + 96) // 8) == 572
    assert cost.store_cycles == 6144 // 8 == 768
    assert cost.cycles == 10 + 13824  # compute-bound: max(572, 13824, 768)


def test_detailed_depthwise_utilisation_from_the_mapping():
    # 16 lanes x 1 tap: 25 px * ceil(20/16)=2 * 9 taps = 450 cycles, 7200 PE-cycles, 4500 MACs
    s = settings(cost_model="detailed", setup_cycles=0, macs_per_cycle=16, pe_lanes=16,
                 dma_bytes_per_cycle=16)
    cost = s.job_cost(LayerWork.of(DW))
    assert (cost.compute_cycles, cost.pe_cycles, cost.macs) == (450, 7200, 4500)
    assert cost.utilisation == pytest.approx(0.625)
    # 4 lanes x 4 taps: ceil(20/4)=5 * ceil(9/4)=3 -> 375 cycles, 4500/6000 = 75 %
    cost = settings(cost_model="detailed", setup_cycles=0, macs_per_cycle=16,
                    pe_lanes=4).job_cost(LayerWork.of(DW))
    assert cost.compute_cycles == 375 and cost.utilisation == pytest.approx(0.75)


def test_overlap_is_max_with_double_buffering_else_sum():
    work = LayerWork.of(DW)  # load 2260 bytes, store 2000 bytes
    common = dict(cost_model="detailed", setup_cycles=3, macs_per_cycle=16, pe_lanes=16,
                  dma_bytes_per_cycle=2)
    overlapped = settings(**common).job_cost(work)
    serial = settings(**common, double_buffering=False).job_cost(work)
    assert (overlapped.load_cycles, overlapped.compute_cycles, overlapped.store_cycles) == (
        1130, 450, 1000)
    assert overlapped.cycles == 3 + 1130  # DMA-bound
    assert serial.cycles == 3 + 1130 + 450 + 1000


def test_run_totals_over_jobs():
    s = settings(cost_model="detailed", macs_per_cycle=16, pe_lanes=16)
    costs = [s.job_cost(LayerWork.of(DW)), s.job_cost(LayerWork.of(CONV))]
    totals = run_totals(costs)
    assert totals["pe_cycles"] == sum(c.pe_cycles for c in costs)
    assert totals["utilisation"] == pytest.approx((DW.macs + CONV.macs) / totals["pe_cycles"])
    assert totals["dma_bytes"] == (2000 + 180 + 80 + 2000) + (1024 + 3456 + 96 + 6144)
    assert run_totals([])["utilisation"] == 0.0


def test_settings_are_validated_with_the_reason():
    with pytest.raises(PeripheralConfigError, match="pe_lanes=3 must divide macs_per_cycle=16"):
        load_backend("qdepthwise:pe_lanes=3:cost_model=detailed")
    load_backend("qdepthwise:macs_per_cycle=8")  # simple: the lanes (16) do not matter
    with pytest.raises(PeripheralConfigError, match="cost_model"):
        load_backend("qdepthwise:cost_model=exact")
    with pytest.raises(PeripheralConfigError, match="valid settings: .*dma_bytes_per_cycle"):
        load_backend("qdepthwise:bandwidth=4")
    backend = load_backend("qdepthwise:cost_model=detailed:double_buffering=false")
    assert backend.settings.cost_model == "detailed" and not backend.settings.double_buffering


def test_cost_settings_do_not_change_the_firmware():
    a = load_backend("qdepthwise")
    b = load_backend("qdepthwise:cost_model=detailed:pe_lanes=4:dma_bytes_per_cycle=1")
    c = load_backend("qdepthwise:wait_mode=poll")
    assert a.codegen_fingerprint() == b.codegen_fingerprint() != c.codegen_fingerprint()


# --- memory traffic: bus width and latency, buffers -> tiling, double buffering ----------


def test_compute_bound_and_bandwidth_bound_jobs():
    # 16 PEs: compute 13824 cycles; a 1-byte bus moves 4576 in / 6144 out: compute-bound
    slow = settings(cost_model="detailed", setup_cycles=0, macs_per_cycle=16, pe_lanes=4,
                    dma_bytes_per_cycle=1).job_cost(LayerWork.of(CONV))
    assert (slow.load_cycles, slow.compute_cycles, slow.store_cycles) == (4576, 13824, 6144)
    assert slow.bound == "compute" and slow.cycles == 13824
    # 64 PEs as 8 lanes x 8 taps: 64 px * 3 * 18 = 3456 cycles; now the bus dominates
    fast = settings(cost_model="detailed", setup_cycles=0, macs_per_cycle=64, pe_lanes=8,
                    dma_bytes_per_cycle=1).job_cost(LayerWork.of(CONV))
    assert fast.compute_cycles == 3456 and fast.bound == "bandwidth"
    assert fast.cycles == 6144  # the output store
    assert fast.utilisation == 1.0 and fast.dma_bytes == 4576 + 6144


def test_bus_bursts_pay_their_latency():
    s = settings(cost_model="detailed", macs_per_cycle=16, pe_lanes=4, dma_bytes_per_cycle=4,
                 burst_bytes=64, bus_latency_cycles=10)
    cost = s.job_cost(LayerWork.of(CONV))
    assert cost.load_cycles == 4576 // 4 + (-(-4576 // 64)) * 10 == 1144 + 720
    assert cost.store_cycles == 6144 // 4 + 96 * 10


def test_buffers_tile_the_job_and_the_mapper_picks_the_cheaper_loop_order():
    work = LayerWork.of(CONV)  # 148 bytes of weights + bias per output channel
    common = dict(cost_model="detailed", setup_cycles=0, macs_per_cycle=16, pe_lanes=4,
                  dma_bytes_per_cycle=4)
    # 1000-byte weight buffer: 6 channels per tile, 4 tiles; the input (unbounded) stays
    weights_only = settings(**common, weight_buffer_bytes=1000)
    t = tile_job(work, weights_only)
    assert (t.channel_tile, t.channel_tiles, t.bands, t.order) == (6, 4, 1, "weights-once")
    assert (t.input_traffic, t.weight_traffic) == (1024, 3552)
    # + a 512-byte input buffer: 4 input rows = bands of 2 output rows (3x3 kernel), 4 bands
    # of 4 input rows each (halo re-read): one input pass = 2048 bytes; re-reading the input
    # per channel tile (4 x 2048 + 3552) beats re-reading the weights per band (2048 + 4 x 3552)
    both = settings(**common, weight_buffer_bytes=1000, input_buffer_bytes=512)
    t = tile_job(work, both)
    assert (t.row_band, t.bands, t.tiles, t.order) == (2, 4, 16, "weights-once")
    assert (t.input_traffic, t.weight_traffic) == (4 * 2048, 3552)
    cost = both.job_cost(work)
    assert cost.load_bytes == 11744 and cost.load_cycles == 2936 and cost.tiles == 16


def test_double_buffering_hides_all_but_one_tile_of_transfers():
    common = dict(cost_model="detailed", setup_cycles=0, macs_per_cycle=16, pe_lanes=4,
                  dma_bytes_per_cycle=4, weight_buffer_bytes=1000, input_buffer_bytes=512)
    work = LayerWork.of(CONV)
    overlapped = settings(**common).job_cost(work)
    serial = settings(**common, double_buffering=False).job_cost(work)
    load, compute, store = 2936, 13824, 1536
    assert (overlapped.load_cycles, overlapped.compute_cycles, overlapped.store_cycles) == (
        load, compute, store)
    assert overlapped.cycles == compute + -(-(load + store) // 16)  # one tile's transfers show
    assert serial.cycles == load + compute + store
    streaming = settings(**{**common, "weight_buffer_bytes": 0, "input_buffer_bytes": 0})
    assert streaming.job_cost(work).cycles == max(1144, compute, store)


def test_depthwise_tiles_read_each_input_channel_once():
    s = settings(cost_model="detailed", macs_per_cycle=16, pe_lanes=16, weight_buffer_bytes=65)
    t = tile_job(LayerWork.of(DW), s)  # 13 bytes per channel: 5 channels per tile
    assert (t.channel_tile, t.channel_tiles, t.input_traffic, t.weight_traffic) == (5, 4, 2000, 260)


def test_buffers_too_small_for_one_tile_are_errors():
    with pytest.raises(ValueError, match="weight_buffer_bytes=100 holds no output channel"):
        tile_job(LayerWork.of(CONV), settings(cost_model="detailed", weight_buffer_bytes=100))
    with pytest.raises(ValueError, match="fewer than the 3 input rows"):
        tile_job(LayerWork.of(CONV), settings(cost_model="detailed", input_buffer_bytes=300))


def test_requantized_view_survives_pickle():
    """Job records travel from a pool worker to the session by pickle: the requantized view
    must rebuild (its attribute delegation once recursed without end and hung the pool)."""
    import pickle

    from mlonmcu_lite.peripheral.conv import ConvJob
    from mlonmcu_lite.peripheral.requant import Requantized

    view = Requantized(ConvJob(8, 8, 4, 8, 8, 16, 3, 3), residual=True)
    again = pickle.loads(pickle.dumps(view))
    assert again == view and again.out_c == 16 and again.input_bytes == view.input_bytes


def test_simple_model_charges_the_fused_residual_add():
    """The residual ADD of a fused conv job: one addition per output value at the engine's
    lane count (`residual_cycles`), on top of issue 5's formula; nothing without it."""
    from mlonmcu_lite.peripheral.conv import ConvJob
    from mlonmcu_lite.peripheral.requant import Requantized

    s = settings(setup_cycles=7, macs_per_cycle=10)
    job = ConvJob(8, 8, 4, 8, 8, 16, 3, 3)
    plain, fused = (s.job_cost(LayerWork.of(Requantized(job, residual=r))) for r in (False, True))
    assert plain.cycles == s.job_cycles(job.macs) and plain.residual_cycles == 0
    assert fused.residual_cycles == -(-8 * 8 * 16 // 10) == 103
    assert fused.cycles == plain.cycles + 103 and fused.compute_cycles == plain.compute_cycles
    detailed = settings(cost_model="detailed", macs_per_cycle=16, pe_lanes=4)
    assert detailed.job_cost(LayerWork.of(Requantized(job, residual=True))).residual_cycles == 0
