from django.apps import AppConfig

_WORK = ["streams.view_milestone", "streams.view_task", "streams.add_task", "streams.change_task",
         "streams.view_ticket", "streams.change_ticket"]
_PLAN = ["streams.add_milestone", "streams.change_milestone", "streams.delete_milestone",
         "streams.run_milestone", "streams.delete_task"]
# Anyone may delete their own comment; this deletes anyone's (moderation: owner, manager).
_MODERATE = ["streams.delete_comment"]


class StreamsConfig(AppConfig):
    """Activity events, timelines, follows, comments, milestones. Depends on no domain app:
    domain apps register what they want followed (streams.subjects.track) in their ready()."""

    name = "streams"
    role_permissions = {
        "manager": _WORK + _PLAN + _MODERATE,
        "sales": _WORK,
        "warehouse": _WORK,
        "accountant": ["streams.view_milestone", "streams.view_task", "streams.view_ticket"],
    }
    # Demo data for `manage.py seed_demo` (after catalog's and sales'), and the login it adds.
    demo_seed = "streams.demo.seed"
    demo_logins = ["Shop manager login: manon@demo.example / demo-password-2026  on the demo "
                   "shop (milestones, tasks and a ticket in My work)"]

    def ready(self) -> None:
        from django_fsm.signals import post_transition

        from streams import tracking
        from streams.events import on_transition

        post_transition.connect(on_transition, dispatch_uid="streams.on_transition")
        tracking.register()
