"""The services that change calls, by job: starting (a new call), verbs (people's actions on a
call), call_message (the channel message's life), ending (the end path every ender shares),
invitations, and repairs (what only the reconciler does). Terms: docs/glossary.md."""
