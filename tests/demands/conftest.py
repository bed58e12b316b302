from django.utils import translation


def zh(msgid: str, **params) -> str:
    """The zh-Hans text users see for `msgid` (the portal's language), with its placeholders filled."""
    with translation.override("zh-hans"):
        text = translation.gettext(msgid)
    return text % params if params else text


def zh_prefix(msgid: str) -> str:
    """The fixed words before the first placeholder of the zh-Hans text."""
    prefix = zh(msgid).split("%(")[0]
    assert prefix, f"no fixed words before the first placeholder in {msgid!r}"
    return prefix
