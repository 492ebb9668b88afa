"""JSON as fast as the stdlib allows for small messages.

encode(obj) -> str: compact JSON (no NaN/Infinity: ValueError), the same text
json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
gives, made by the stdlib's C encoder kept between calls instead of built anew
for each one. decode(bytes) -> object: the stdlib's C scanner called directly;
the library has already checked the text is one valid JSON value, so only
leading whitespace needs the general path; decode_text(str) is the same for
text the native call already decoded. Both fall back to json.dumps/loads
where the C accelerators are missing. About twice as fast as dumps/loads on a
64-byte object.
"""

import json
import json.encoder as _enc
import json.scanner as _scan
from sys import getrecursionlimit as _getrecursionlimit

_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_decoder = json.JSONDecoder()


def _make_c_encoder(markers):
    """The stdlib's C encoder; markers {} checks for circular references, None does not."""
    if _enc.c_make_encoder is None:
        return None
    try:
        return _enc.c_make_encoder(markers, _encoder.default, _enc.encode_basestring, None, ":", ",", False, False,
                                   False)
    except TypeError:  # another signature in another Python version
        return None


_c_encoder = _make_c_encoder({})
# The check for circular references costs a dict insert and delete per list and dict (40% of
# encoding a list of small lists, as map's arguments are). The unchecked encoder goes first; a
# circular value only makes it recurse to the limit, and the checking one then says what it is.
# With a recursion limit this high the C stack could run out first: then only the checked one.
_c_unchecked = _make_c_encoder(None)
_UNCHECKED_MAX_RECURSION = 5000


def _encode_c(obj):
    global _c_encoder
    if _getrecursionlimit() <= _UNCHECKED_MAX_RECURSION:
        try:
            return "".join(_c_unchecked(obj, 0))
        except RecursionError:
            pass  # deep or circular: the checked encoder tells which
    try:
        return "".join(_c_encoder(obj, 0))
    except BaseException:
        # The circular-reference markers may hold ids of the failed call: start clean.
        _c_encoder = _make_c_encoder({})
        raise


encode = _encode_c if _c_encoder is not None else _encoder.encode

_scan_once = _scan.c_make_scanner(_decoder) if _scan.c_make_scanner is not None else None
_WHITESPACE = " \t\n\r"


def _decode_scan(data):
    text = data.decode("utf-8")
    if text and text[0] not in _WHITESPACE:
        try:
            return _scan_once(text, 0)[0]
        except StopIteration:
            pass
    return _decoder.decode(text)  # leading whitespace, or an error to report


def _decode_plain(data):
    return _decoder.decode(data.decode("utf-8"))


decode = _decode_scan if _scan_once is not None else _decode_plain


def _decode_text_scan(text):
    try:  # leading whitespace (or no text) stops the scanner at once: the general path then
        return _scan_once(text, 0)[0]
    except StopIteration:
        return _decoder.decode(text)


# decode_text(str) -> object: decode() for text already decoded from UTF-8 (the queue's get_text)
decode_text = _decode_text_scan if _scan_once is not None else _decoder.decode
