"""Party organisation life beside the people records: membership transfers (组织关系转接), mobile
members (流动党员) and branch committee terms (换届). Models live here and are imported by
members/models.py, so they belong to the members app."""
