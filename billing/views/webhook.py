"""The platform's one Stripe webhook endpoint (public host): every connected shop's events."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing import stripe_gateway as gateway
from billing.services.webhooks import RetryLater, webhook_receive


@csrf_exempt  # Stripe cannot send a CSRF token: the signature (checked first) authenticates it
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    try:
        event = gateway.event_from_webhook(payload=request.body,
                                           signature=request.headers.get("Stripe-Signature"))
    except gateway.SignatureError:
        return JsonResponse({"error": "invalid signature"}, status=400)
    try:
        outcome = webhook_receive(event=event)
    except RetryLater as exc:
        return JsonResponse({"error": "retry later", "detail": str(exc)}, status=503)
    return JsonResponse({"received": True, "outcome": outcome})
