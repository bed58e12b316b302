"""困难职工帮扶: hardship households, their assistance plans, assistance given and quarterly reviews.

Kept apart from the rest of members/ so the register can be read (and changed) as one piece:
choices, workflow (pure), models, services (writes), selectors (reads), forms, views, urls, api,
importers, tables, filtersets, menu, home, timeline.
"""
