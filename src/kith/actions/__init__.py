"""Actions: the only layer that changes user-visible state and publishes events.

Vocabulary (Zulip's): ``check_*`` validates raw input and then performs; ``do_*`` performs
atomically and publishes; ``access_*`` fetches with a permission check; ``list_*`` and
``get_*`` read with permission checks.
"""
