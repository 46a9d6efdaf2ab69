class ModelError(ValueError):
    pass
