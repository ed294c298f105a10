"""snnhw: ONNX CNN -> bit-exact spiking accelerator."""
__version__ = "0.1.0"
