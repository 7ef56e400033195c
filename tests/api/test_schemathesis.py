"""The whole shop API fuzzed from its own OpenAPI schema (schemathesis), in-process.

Every operation of /api/schema/ gets requests made from its documented parameters and bodies:
the schema's own examples, valid input on real objects of a seeded shop (a draft and a sent
quote, a draft and an issued invoice...), valid input on ids that do not exist, and input
that breaks the schema. Each request runs as the shop's owner with a staff token, through
Django's WSGI application in the test's transaction, and is rolled back on its own (a DELETE
never hides an object from the next operation). Every answer must be:
- no server error (5xx);
- a status code the operation documents, with a documented Content-Type;
- a body and headers that match the documented schema for that status.

A schema-valid request may still be refused with a 400 (a customer needs a name or a company;
an order id must exist): those rules are not all expressible in OpenAPI, so schemathesis'
`positive_data_acceptance` is not run; the 400 bodies are still checked against the schema.

Bounded and stable: a few examples per operation, no shrinking, derandomized (the same
requests on every run), about a minute on two cores.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.db import transaction
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.support import seed, token_for
from tests.conftest import host_of

pytestmark = pytest.mark.django_db

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]
# Examples per operation and kind of input (about 1,000 requests in all).
REAL_IDS, ANY_IDS, NEGATIVE = 3, 1, 3
NESTED = {"/images/": "images", "/specs/": "specs", "/addresses/": "addresses",
          "/lines/": "lines"}


def real_path_parameters(operation, seeded) -> list[dict]:
    """The seeded objects an operation's path can name (none: the path has no parameter)."""
    names = [p.name for p in operation.path_parameters]
    if not names:
        return []
    nested = next((key for marker, key in NESTED.items() if marker in operation.path), None)
    if nested and len(names) > 1:
        return [dict(seeded.nested[nested])]
    collection = operation.path.removeprefix("/api/v1/").split("/")[0]
    if nested == "images":  # /products/{product_pk}/images/: the product that has images
        return [{"product_pk": seeded.nested["images"]["product_pk"]}]
    return [{names[0]: pk} for pk in seeded.ids.get(collection, [])]


def strategies(operation, seeded):
    """(label, strategy, examples) for one operation."""
    found = real_path_parameters(operation, seeded)
    if found:
        real = st.sampled_from(found).flatmap(
            lambda params: operation.as_strategy(path_parameters=params))
        yield "real ids", real, REAL_IDS
        yield "any ids", operation.as_strategy(), ANY_IDS
    else:
        yield "valid", operation.as_strategy(), REAL_IDS
    yield "negative", operation.as_strategy(GenerationMode.NEGATIVE), NEGATIVE
    # The documented examples, on each real object the path can name.
    for params in found or [{}]:
        for example in operation.get_strategies_from_examples(path_parameters=params):
            yield "schema example", example, 1


def run_examples(strategy, examples: int, name: str, send) -> None:
    """`send(case, name)` for `examples` cases drawn from `strategy`: derandomized (the same
    cases every run), no shrinking, no deadline, no example database."""

    @given(case=strategy)
    @hypothesis_settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                         phases=[Phase.explicit, Phase.generate],
                         suppress_health_check=list(HealthCheck))
    def run(case):
        send(case, name)

    run()


def test_the_whole_api_holds_against_generated_requests(wsgi_app, legal_shop, settings,
                                                        stripe_settings):
    # The rate limits would answer 429 (documented, but not what this test is about).
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        scope: "1000000/minute" for scope in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]}}
    # A card payment among the payments: refunding it goes to the local Stripe server.
    seeded = seed(legal_shop, stripe_settings)
    base_url = f"http://{host_of(legal_shop)}"
    auth = {"Authorization": f"Token {token_for(legal_shop, name='schemathesis')}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app,
                                            base_url=base_url)
    failures: dict[str, str] = {}
    sent = []

    def send(case, name: str) -> None:
        sent.append(name)
        # Each request in its own savepoint: what it wrote is gone before the next.
        with transaction.atomic():
            try:
                case.call_and_validate(base_url=base_url, headers=auth, checks=CHECKS)
            except FailureGroup as failure:
                failures.setdefault(name, str(failure))
            transaction.set_rollback(True)

    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 100, "the whole schema"
    for operation in operations:
        for label, strategy, examples in strategies(operation, seeded):
            try:
                run_examples(strategy, examples, f"{operation.label} ({label})", send)
            except Unsatisfiable:
                # Nothing in this operation can be made invalid (no parameter, no body).
                assert label == "negative", f"{operation.label}: no {label} request"

    report = "\n\n".join(f"=== {name}\n{text}" for name, text in sorted(failures.items()))
    assert not failures, f"{len(failures)} operations failed ({len(sent)} requests):\n{report}"
    # The card payment's refund really went to Stripe (and was rolled back here).
    assert stripe_settings.events("charge.refunded"), "no card refund reached Stripe"
