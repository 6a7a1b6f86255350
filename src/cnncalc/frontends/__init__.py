"""Front-ends that turn real models (PyTorch, ONNX, Keras) into cnncalc reports; each imports its framework lazily."""
