class ObserveError(ValueError):
    pass
