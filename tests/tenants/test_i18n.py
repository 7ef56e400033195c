"""English and French: the platform follows the browser, a shop speaks its own locale unless the
visitor chose a language, and the French catalog is complete, compiled and placeholder-safe."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation

from tenants.models import Shop

pytestmark = pytest.mark.django_db

PO_FILE = Path(settings.LOCALE_PATHS[0]) / "fr" / "LC_MESSAGES" / "django.po"
MO_FILE = PO_FILE.with_suffix(".mo")
FRENCH = "fr-FR,fr;q=0.9,en;q=0.5"


def signup_data(**overrides) -> dict:
    data = {
        "name": "Boulangerie Martin",
        "subdomain": "boulangerie-martin",
        "email": "martin@boulangerie.test",
        "password": "a-long-test-password-42",
        "plan": "starter",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def french_shop(shop) -> Shop:
    """The session shop with locale "fr"; the update rolls back with the test's transaction."""
    Shop.objects.filter(pk=shop.pk).update(locale="fr")
    return shop


# ---------------------------------------------------------------------------------------------
# Platform site: follows the browser
# ---------------------------------------------------------------------------------------------
def test_platform_home_is_french_for_a_french_browser(platform_client, shop):
    response = platform_client.get("/", HTTP_ACCEPT_LANGUAGE=FRENCH)

    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="fr">' in html
    assert "Ouvrez votre boutique" in html
    assert "Votre propre boutique, à sa propre adresse, en quelques secondes." in html
    assert "Tarifs" in html
    assert "Open your shop" not in html


def test_platform_home_stays_english_for_an_english_browser(platform_client, shop):
    html = platform_client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en").content.decode()

    assert '<html lang="en">' in html
    assert "Open your shop" in html
    assert "Ouvrez votre boutique" not in html


def test_pricing_uses_french_plural_forms(platform_client, shop):
    html = platform_client.get("/pricing/", HTTP_ACCEPT_LANGUAGE=FRENCH).content.decode()

    assert "<h1>Tarifs</h1>" in html
    assert re.search(r"\d+ membres? d’équipe", html), "staff seats are counted in French"
    assert "staff seat" not in html


def test_signup_errors_are_french_for_a_reserved_subdomain(platform_client, shop):
    response = platform_client.post(
        "/signup/", signup_data(subdomain="admin", email=None), HTTP_ACCEPT_LANGUAGE=FRENCH
    )

    assert response.status_code == 422
    errors = response.context["form"].errors
    assert errors["subdomain"] == ["L’adresse « admin » est réservée. Veuillez en choisir une autre."]
    assert errors["email"] == ["Ce champ est obligatoire."]  # Django's own French catalog
    html = response.content.decode()
    assert '<html lang="fr">' in html
    assert "Un problème est survenu" in html
    assert "Adresse de la boutique" in html
    assert "Créer ma boutique" in html
    assert "reserved" not in html
    assert not Shop.objects.filter(domains__domain__startswith="admin.").exists()


def test_signup_subdomain_check_answers_in_french(platform_client, shop):
    response = platform_client.get(
        "/signup/check-subdomain/", {"subdomain": "ab"}, HTTP_ACCEPT_LANGUAGE=FRENCH
    )

    assert response.status_code == 200
    assert "Au moins 3 caractères." in response.content.decode()


# ---------------------------------------------------------------------------------------------
# Storefront: the shop's locale, unless the visitor chose a language
# ---------------------------------------------------------------------------------------------
def test_storefront_speaks_the_shops_locale_whatever_the_browser_says(shop_client, french_shop):
    html = shop_client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en").content.decode()

    assert '<html lang="fr">' in html
    assert "Notre catalogue arrive bientôt. Revenez vite !" in html
    assert "Rechercher dans la boutique" in html
    assert "Se connecter" in html
    assert "Our catalog is on its way" not in html


def test_storefront_follows_the_language_cookie_over_the_shop_locale(shop_client, french_shop):
    shop_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    html = shop_client.get("/", HTTP_ACCEPT_LANGUAGE=FRENCH).content.decode()

    assert '<html lang="en">' in html
    assert "Our catalog is on its way. Come back soon!" in html
    assert "Sign in" in html
    assert "Notre catalogue" not in html


def test_an_english_shop_ignores_a_french_browser(shop_client, shop):
    assert Shop.objects.get(pk=shop.pk).locale == "en"

    html = shop_client.get("/", HTTP_ACCEPT_LANGUAGE=FRENCH).content.decode()

    assert '<html lang="en">' in html
    assert "Our catalog is on its way" in html


def test_login_page_and_its_errors_are_french(shop_client, french_shop):
    response = shop_client.post(
        "/accounts/login/", {"username": "nobody@example.test", "password": "wrong-password-1"}
    )

    html = response.content.decode()
    assert "Connexion à Alpha Shop" in html
    assert "E-mail ou mot de passe incorrect." in html
    assert "Mot de passe oublié ?" in html


# ---------------------------------------------------------------------------------------------
# Dashboard
# ---------------------------------------------------------------------------------------------
def test_dashboard_navigation_is_french_for_the_owner(owner_client, french_shop):
    response = owner_client.get("/dashboard/")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="fr">' in html
    for label in (
        "Tableau de bord",
        "Accueil",
        "Équipe",
        "Jetons d’API",
        "Paramètres",
        "Voir la vitrine",
        "Changer de mot de passe",
        "Se déconnecter",
    ):
        assert label in html, label
    assert "Préparez votre boutique" in html
    assert "Renseignez votre identité légale (utilisée sur les factures)" in html
    assert 'placeholder="Rechercher des commandes, clients, produits…"' in html
    assert "Sign out" not in html


def test_dashboard_staff_page_is_french(owner_client, french_shop):
    html = owner_client.get("/dashboard/staff/").content.decode()

    assert "Inviter une personne" in html
    assert "Envoyer l’invitation" in html
    assert "Propriétaire" in html  # role choices
    assert "Actif" in html


def test_dashboard_is_english_when_the_owner_picks_english(owner_client, french_shop):
    owner_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    html = owner_client.get("/dashboard/").content.decode()

    assert '<html lang="en">' in html
    assert "Sign out" in html
    assert "Tableau de bord" not in html


def test_switching_language_sets_the_cookie_and_the_next_page_follows(owner_client, french_shop):
    response = owner_client.post("/i18n/setlang/", {"language": "en", "next": "/dashboard/"})

    assert response.status_code == 302
    assert owner_client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "Sign out" in owner_client.get("/dashboard/").content.decode()


# ---------------------------------------------------------------------------------------------
# The catalog itself
# ---------------------------------------------------------------------------------------------
def _unquote(chunks: list[str]) -> str:
    text = "".join(chunks)
    return text.replace('\\"', '"').replace("\\n", "\n").replace("\\t", "\t").replace("\\\\", "\\")


def po_entries(path: Path = PO_FILE) -> list[dict]:
    """Entries of a .po file (the French one by default): flags, msgctxt, msgid, msgid_plural
    and msgstr forms."""
    entries = []
    for block in path.read_text(encoding="utf-8").strip().split("\n\n"):
        entry: dict = {"flags": set(), "msgstr": {}, "obsolete": False}
        key = None
        parts: dict[str, list[str]] = {}
        for line in block.splitlines():
            if line.startswith("#~"):
                entry["obsolete"] = True
            elif line.startswith("#,"):
                entry["flags"].update(f.strip() for f in line[2:].split(","))
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                parts[key].append(line[1:-1])
            else:
                key, _, rest = line.partition(" ")
                parts[key] = [rest[1:-1]]
        entry["msgctxt"] = _unquote(parts["msgctxt"]) if "msgctxt" in parts else None
        entry["msgid"] = _unquote(parts.get("msgid", []))
        entry["msgid_plural"] = _unquote(parts["msgid_plural"]) if "msgid_plural" in parts else None
        for k, v in parts.items():
            if k.startswith("msgstr"):
                entry["msgstr"][k] = _unquote(v)
        entries.append(entry)
    return entries


def placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"%\(\w+\)[sd]|%[sd]", text))


def test_french_catalog_is_complete_and_not_fuzzy():
    entries = po_entries()
    header, messages = entries[0], entries[1:]

    assert header["msgid"] == ""
    assert "fuzzy" not in header["flags"]
    assert "Language: fr\n" in header["msgstr"]["msgstr"]
    assert "Plural-Forms: nplurals=2; plural=(n > 1);\n" in header["msgstr"]["msgstr"]
    assert len(messages) > 200
    assert not [e["msgid"] for e in messages if e["obsolete"]], "obsolete entries left in the file"
    assert not [e["msgid"] for e in messages if "fuzzy" in e["flags"]]
    untranslated = [e["msgid"] for e in messages if not all(e["msgstr"].values())]
    assert not untranslated
    plurals = [e for e in messages if e["msgid_plural"]]
    assert plurals and all(set(e["msgstr"]) == {"msgstr[0]", "msgstr[1]"} for e in plurals)


def test_french_translations_keep_every_placeholder():
    broken = []
    for entry in po_entries()[1:]:
        expected = placeholders(entry["msgid"])
        for form, text in entry["msgstr"].items():
            if placeholders(text) != expected:
                broken.append((entry["msgid"], form, text))
    assert not broken


def test_compiled_catalog_matches_the_po_file():
    """The committed .mo is in sync with the .po: every message comes out as written there."""
    assert MO_FILE.exists(), "run compilemessages"
    stale = []
    with translation.override("fr"):
        for entry in po_entries()[1:]:
            if entry["msgid_plural"]:
                got = [translation.ngettext(entry["msgid"], entry["msgid_plural"], n) for n in (1, 2)]
                want = [entry["msgstr"]["msgstr[0]"], entry["msgstr"]["msgstr[1]"]]
            elif entry["msgctxt"]:
                got = translation.pgettext(entry["msgctxt"], entry["msgid"])
                want = entry["msgstr"]["msgstr"]
            else:
                got, want = translation.gettext(entry["msgid"]), entry["msgstr"]["msgstr"]
            if got != want:
                stale.append((entry["msgid"], got, want))
    assert not stale


# What makemessages extracts for the French catalog: the .py, .html and .txt files of the
# project, run from its root, without these directories.
MAKEMESSAGES_IGNORES = [".venv", ".data", "staticfiles", "test-artifacts", "tests", "docs",
                        "*.egg-info", "media"]


@pytest.mark.skipif(not (shutil.which("xgettext") and shutil.which("msguniq")),
                    reason="GNU gettext (xgettext, msguniq) is not installed: apt-get install gettext")
def test_every_string_in_the_code_is_in_the_french_catalog(tmp_path, monkeypatch):
    """makemessages into a scratch locale directory: every string it finds in the code and the
    templates is in the French catalog (which the tests above require translated), so a new
    string without its French fails here rather than showing English to a French shop."""
    scratch = tmp_path / "locale"
    scratch.mkdir()
    monkeypatch.chdir(settings.BASE_DIR)
    committed = PO_FILE.read_bytes()
    try:
        # Ignoring every "locale" directory keeps makemessages from adopting config/locale as
        # the catalog of the files under config/ (it would merge into the real one).
        with override_settings(LOCALE_PATHS=[str(scratch)]):
            call_command("makemessages", locale=["fr"], extensions=["html", "txt", "py"],
                         ignore_patterns=[*MAKEMESSAGES_IGNORES, "locale"], verbosity=0)
    finally:
        touched = PO_FILE.read_bytes() != committed
        if touched:
            PO_FILE.write_bytes(committed)
    assert not touched, "makemessages wrote into the real catalog (restored)"

    def key(entry: dict) -> tuple:
        return entry["msgctxt"], entry["msgid"], entry["msgid_plural"]

    extracted = {key(e) for e in po_entries(scratch / "fr" / "LC_MESSAGES" / "django.po")[1:]}
    catalog = {key(e) for e in po_entries()[1:] if not e["obsolete"]}
    assert len(extracted) > 200, "makemessages found almost nothing: wrong directory?"
    missing = sorted(extracted - catalog, key=lambda k: (k[0] or "", k[1]))
    assert not missing, (
        f"{len(missing)} string(s) missing from {PO_FILE.relative_to(settings.BASE_DIR)}. From the "
        "project root: manage.py makemessages -l fr -e html,txt,py --ignore=<each of "
        "MAKEMESSAGES_IGNORES>, translate, then compilemessages. Missing: "
        + "; ".join(repr(k[1]) for k in missing[:20]))


@pytest.mark.parametrize(
    ("english", "french"),
    [
        ("Open your shop", "Ouvrez votre boutique"),
        ("There is a problem", "Un problème est survenu"),
        ("Shop address", "Adresse de la boutique"),
        ("Dashboard", "Tableau de bord"),
        ("API tokens", "Jetons d’API"),
        ("Audit log", "Journal d’audit"),
        ("Plan", "Formule"),
        ("Suspend shop", "Suspendre la boutique"),
    ],
)
def test_key_terms(english, french):
    with translation.override("fr"):
        assert translation.gettext(english) == french
    with translation.override("en"):
        assert translation.gettext(english) == english


def test_french_plural_rule_puts_zero_and_one_in_the_singular():
    with translation.override("fr"):
        assert translation.ngettext("%(n)s staff seat", "%(n)s staff seats", 0) == "%(n)s membre d’équipe"
        assert translation.ngettext("%(n)s staff seat", "%(n)s staff seats", 1) == "%(n)s membre d’équipe"
        assert translation.ngettext("%(n)s staff seat", "%(n)s staff seats", 2) == "%(n)s membres d’équipe"


# ---------------------------------------------------------------------------------------------
# Messages built outside a request follow the language active when they are shown
# ---------------------------------------------------------------------------------------------
def test_subdomain_help_text_follows_the_active_language():
    from tenants.forms import SignupForm

    with translation.override("fr"):
        help_text = str(SignupForm().fields["subdomain"].help_text)
    assert help_text.startswith("3 à 40 caractères")


def test_console_transition_messages_follow_the_active_language():
    from tenants.views.console import TRANSITIONS

    with translation.override("fr"):
        assert str(TRANSITIONS["suspend"][1]).startswith("La boutique %(shop)s est suspendue")


def test_refused_transitions_are_explained_in_french(shop):
    from tenants.accounts.models import User
    from tenants.errors import TenantsError
    from tenants.services import shop_reactivate

    admin = User.objects.create_user("root@platform.test", "x-long-password-1")
    with translation.override("fr"), pytest.raises(TenantsError) as refused:
        shop_reactivate(shop=shop, by=admin)
    assert "réactivée" in str(refused.value)
