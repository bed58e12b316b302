"""Pages of the evaluation app, by area: dashboard and drill-down, catalogue and targets, campaigns
and democratic appraisal, PDCA, reports."""
