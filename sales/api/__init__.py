"""Sales REST API (under /api/v1/, staff token or session): customers and their addresses,
quotes with their lines and workflow actions, orders with one action per transition.

Serializers only check shapes (types, required fields, existing ids); every write goes through
`sales.services`. Errors share the catalog API's body, `{"errors": {"<field>": ["message"]}}`:
a refused operation (SalesError, CatalogError) is a 400; a transition the document's state does
not allow is a 409 and one the role does not allow a 403, both also carrying the document's
`state` and the actions `allowed` now (see `sales.api.common`).
"""
