"""Billing REST API (under /api/v1/, staff token or session), in the sales API's style:
invoices and credit notes (one resource, `kind` tells them apart), with their lines, VAT per
rate, payments, history and the actions allowed now; payments, recorded by hand or refunded.

Serializers only check shapes; every write goes through `billing.services`. Errors share the
sales API's body and handler (`sales.api.common`): a refused operation (BillingError is a
SalesError) is a 400 on its field; an action the document's state does not allow is a 409
and one the role does not allow a 403, both with the document's `state` and the actions
`allowed` now.
"""
