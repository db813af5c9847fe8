"""The page list: one constant that dashboard.py and the tests both use."""

PAGES = [
    # (file, title, icon, section)
    ("pages/overview.py", "Overview", ":material/dashboard:", "Cash"),
    ("pages/data.py", "Data", ":material/upload_file:", "Data"),
]
