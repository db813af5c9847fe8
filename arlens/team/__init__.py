"""Team use: who may read and do what (roles), the actions collectors and credit managers take in
the app, the writes that record them safely, and the audit trail."""
