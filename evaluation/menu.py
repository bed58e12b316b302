from django.utils.translation import gettext_lazy as _

from portal.registry import menu_item

menu_item("evaluation", _("KPI dashboard"), "evaluation:dashboard", "kpis.view", "speedometer2", 10)
menu_item("evaluation", _("Monthly diagnostic reports"), "evaluation:report_list", "reports.view", "file-earmark-bar-graph", 20)
menu_item("evaluation", _("Improvement actions (PDCA)"), "evaluation:action_board", "pdca.view", "kanban", 30)
menu_item("evaluation", _("Evaluation campaigns"), "evaluation:campaign_list", "campaigns.manage", "clipboard-check", 40)
menu_item("evaluation", _("Democratic appraisal"), "evaluation:appraisal_list", "campaigns.manage", "people", 50)
menu_item("evaluation", _("My ratings"), "evaluation:rate_list", "campaigns.rate", "pencil-square", 60)
menu_item("evaluation", _("KPI targets"), "evaluation:target_list", "kpis.targets", "bullseye", 70)
menu_item("evaluation", _("Manual KPI values"), "evaluation:manual_list", "kpis.manual", "input-cursor-text", 80)
menu_item("evaluation", _("KPI catalogue"), "evaluation:kpi_list", "kpis.catalogue_view", "list-check", 90)
