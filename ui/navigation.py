"""The page list: one constant that dashboard.py and the tests both use."""

PAGES = [
    # (file, title, icon, section)
    ("pages/overview.py", "Overview", ":material/dashboard:", "Cash"),
    ("pages/dso.py", "DSO & collections", ":material/timer:", "Cash"),
    ("pages/ccc.py", "Cash conversion cycle", ":material/autorenew:", "Cash"),
    ("pages/aging.py", "Aging", ":material/stacked_bar_chart:", "Receivables"),
    ("pages/worklist.py", "Collections worklist", ":material/call:", "Receivables"),
    ("pages/statements.py", "Statements & dunning", ":material/mail:", "Receivables"),
    ("pages/credit.py", "Credit limits", ":material/credit_score:", "Risk"),
    ("pages/limits.py", "Suggested limits", ":material/tune:", "Risk"),
    ("pages/bad_debt.py", "Bad-debt exposure", ":material/warning:", "Risk"),
    ("pages/risk.py", "Late-payment risk", ":material/trending_up:", "Risk"),
    ("pages/personas.py", "Customer personas", ":material/groups:", "Risk"),
    ("pages/data.py", "Data", ":material/upload_file:", "Data"),
    ("pages/audit.py", "Audit trail", ":material/history:", "Data"),
]
