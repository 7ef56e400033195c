"""API: work. `register(router)` adds this area's viewsets to the shop's API router."""


def register(router) -> None:
    pass
