"""The store: every read and write of calls and their people, as short transactions, by
concern. `calls` (CallStore) starts a call and shows it, `ending` (EndingStore) ends calls,
`participants` (ParticipantStore) keeps who is in a call and the invitations, `presence`
(PresenceStore) records what the video provider reports, `reconciliation` (ReconcileStore)
serves the reconciler and retention, `home` (HomeStore) reads people's Home tabs. SQL they
share is in `statements`; what differs between PostgreSQL and SQLite is in `dialect`. The
plain types they take and return are in calls_app/records.py.
"""
