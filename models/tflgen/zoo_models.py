"""The four MLPerf Tiny reference architectures (structure of the mlcommons/tiny
training scripts: op sequence, shapes, strides, padding, fused activations)."""

from __future__ import annotations

from .graph import Graph
from .spec import ModelSpec, smooth_images

IMAGE_RANGE = (0.0, 1.0)  # input scale 1/255, zero point -128, as the reference images


def _classifier_head(g: Graph, x: str, pool: tuple[int, int], classes: int) -> None:
    """Global AVERAGE_POOL_2D -> RESHAPE (Flatten) -> FULLY_CONNECTED -> SOFTMAX."""
    x = g.avg_pool(x, "avgpool", pool)
    x = g.reshape(x, "flatten", (1, g.shape(x)[-1]))
    g.output(g.softmax(g.fully_connected(x, "fc", classes), "softmax"))


def resnet() -> Graph:
    """ResNet-8 (image classification, CIFAR-10)."""
    g = Graph("resnet", seed=101)
    x = g.input("input", (1, 32, 32, 3))
    x = g.conv2d(x, "conv1", 16, (3, 3), 1, "SAME", "RELU")
    y = g.conv2d(x, "stack1/conv1", 16, (3, 3), 1, "SAME", "RELU")
    y = g.conv2d(y, "stack1/conv2", 16, (3, 3), 1, "SAME")
    x = g.add(x, y, "stack1/add", "RELU")
    for i, filters in ((2, 32), (3, 64)):
        y = g.conv2d(x, f"stack{i}/conv1", filters, (3, 3), 2, "SAME", "RELU")
        y = g.conv2d(y, f"stack{i}/conv2", filters, (3, 3), 1, "SAME")
        s = g.conv2d(x, f"stack{i}/shortcut", filters, (1, 1), 2, "SAME")
        x = g.add(y, s, f"stack{i}/add", "RELU")
    _classifier_head(g, x, (8, 8), 10)
    return g


VWW_BLOCKS = ((16, 1), (32, 2), (32, 1), (64, 2), (64, 1), (128, 2),
              (128, 1), (128, 1), (128, 1), (128, 1), (128, 1), (256, 2), (256, 1))


def vww() -> Graph:
    """MobileNetV1 alpha=0.25 (visual wake words); ReLU as in the reference vww_model.py."""
    g = Graph("vww", seed=102)
    x = g.input("input", (1, 96, 96, 3))
    x = g.conv2d(x, "conv1", 8, (3, 3), 2, "SAME", "RELU")
    for i, (filters, stride) in enumerate(VWW_BLOCKS, start=1):
        x = g.depthwise(x, f"block{i}/depthwise", (3, 3), stride, "SAME", "RELU")
        x = g.conv2d(x, f"block{i}/pointwise", filters, (1, 1), 1, "SAME", "RELU")
    _classifier_head(g, x, (3, 3), 2)
    return g


def aww() -> Graph:
    """DS-CNN (keyword spotting, 49x10 MFCC)."""
    g = Graph("aww", seed=103)
    x = g.input("input", (1, 49, 10, 1))
    x = g.conv2d(x, "conv1", 64, (10, 4), 2, "SAME", "RELU")
    for i in range(1, 5):
        x = g.depthwise(x, f"block{i}/depthwise", (3, 3), 1, "SAME", "RELU")
        x = g.conv2d(x, f"block{i}/pointwise", 64, (1, 1), 1, "SAME", "RELU")
    _classifier_head(g, x, (25, 5), 12)
    return g


def toycar() -> Graph:
    """Fully connected autoencoder (anomaly detection, ToyCar, 640 log-mel features)."""
    g = Graph("toycar", seed=104)
    x = g.input("input", (1, 640))
    units = [128] * 4 + [8] + [128] * 4
    for i, u in enumerate(units, start=1):
        x = g.fully_connected(x, f"dense{i}", u, "RELU")
    g.output(g.fully_connected(x, f"dense{len(units) + 1}", 640))
    return g


ZOO: dict[str, ModelSpec] = {
    "resnet": ModelSpec("resnet", "MLPerf Tiny image classification: ResNet-8, CIFAR-10 32x32x3, 10 classes",
                        resnet, smooth_images, {"input": IMAGE_RANGE}, 16, 1),
    "vww": ModelSpec("vww", "MLPerf Tiny visual wake words: MobileNetV1 alpha=0.25, 96x96x3, 2 classes",
                     vww, smooth_images, {"input": IMAGE_RANGE}, 8, 2),
    "aww": ModelSpec("aww", "MLPerf Tiny keyword spotting: DS-CNN, 49x10x1 MFCC, 12 classes",
                     aww, seed=3),
    "toycar": ModelSpec("toycar", "MLPerf Tiny anomaly detection: FC autoencoder, 640 features (ToyCar)",
                        toycar, seed=4, calibration_size=32),
}
