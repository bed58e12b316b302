"""Members' part of the shared audit kit: personal data masked in every history, and the reveal
log (reveals and unmasked exports) on the audit trail page."""
from django.db.models import CharField, F, Func, Value
from django.db.models.functions import Concat
from django.utils.translation import gettext_lazy as _

from portal.registry import audit_trail_source, history_mask

from .masking import mask_id_number, mask_phone

history_mask("id_number", mask_id_number)
history_mask("phone", mask_phone)


@audit_trail_source("reveal", _("sensitive data access"), detail="detail_text")
def reveals():
    from .models import RevealLog

    return RevealLog.objects.annotate(
        kind=Value("reveal"), who=F("user__username"), ip=Func("ip_address", function="host", output_field=CharField()), path=Value(""),
        detail_text=Concat("field", Value(" "), "detail"),
    )
