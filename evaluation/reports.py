"""Monthly diagnostic report (运行诊断报告) — filled in below."""


def generate_monthly_reports():
    return []


def generate(report_id):
    return False
