"""The fallback for unknown AI bodies: scan every string that can carry words, alter nothing that would break."""
import base64
import json

from proxy.adapters import Extraction, extract
from tests.support.files import make_docx, make_pdf


def generic(doc) -> Extraction:
    body = json.dumps(doc).encode()
    ex = extract("generic", body, "application/json", "/x")
    assert isinstance(ex, Extraction) and ex.rebuild(ex.texts) == body
    return ex


def test_ids_enums_urls_tokens_and_blobs_of_their_shape_are_left_alone_but_a_url_with_a_name_is_read():
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8).decode()
    ex = generic({
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL", "conversation_id": "6741c9d2-0a7e-800b-9f43-1c2d3e4f5a6b",
        "parentMessageId": "abc", "model": "gpt-4o-mini", "role": "user", "type": "message",
        "url": "https://example.com/Leo-Fischer.png", "link": "https://cdn.example.com/a.png",
        "sha": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "image": png,
        "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "punctuation": "...", "empty": "   ",
        "text": "Leo Fischer's NHS number is 943 476 5919",
    })
    # "url" may skip only a URL without words in it; "punctuation" is not a protocol key, so the key itself is read
    assert ex.texts == ["https://example.com/Leo-Fischer.png", "Leo Fischer's NHS number is 943 476 5919",
                        "punctuation"]


def test_a_field_on_the_reviewed_list_is_read_when_its_value_is_not_of_its_shape():
    ex = generic({"model": "Leo Fischer", "role": "Amelia", "id": "LeoFischer2011", "type": "Leo_Fischer",
                  "signature": "Leo Fischer's file", "locale": "en-GB", "user": "u-1", "user_id": "leo.fischer",
                  "callback_url": "https://x.example/notes?about=Leo%20Fischer"})
    assert ex.texts == ["Leo Fischer", "Amelia", "LeoFischer2011", "Leo_Fischer", "Leo Fischer's file", "u-1",
                        "leo.fischer", "https://x.example/notes?about=Leo%20Fischer"]


def test_keys_are_read_as_one_text_and_a_redacted_key_is_rewritten():
    doc = {"metadata": {"Leo Fischer": "9R", "max_tokens": 5}, "schema": {"properties": {"Amelia Watson": {}},
                                                                          "required": ["Amelia Watson"]}}
    ex = generic(doc)
    assert ex.texts == ["9R", "Amelia Watson", "Leo Fischer\nAmelia Watson"]
    after = json.loads(ex.rebuild(["9R", "[PUPIL_2]", "[PUPIL_1]\n[PUPIL_2]"]))
    assert after == {"metadata": {"[PUPIL_1]": "9R", "max_tokens": 5},
                     "schema": {"properties": {"[PUPIL_2]": {}}, "required": ["[PUPIL_2]"]}}
    assert ex.rebuild(["9R", "x", "[PUPIL_1]\n[PUPIL_1]"]) is not None  # different objects: no clash
    clash = generic({"Leo Fischer": 1, "L. Fischer": 2})
    assert clash.rebuild(["[PUPIL_1]\n[PUPIL_1]"]) is None  # one object cannot hold the key twice: block


def test_duplicate_keys_and_documents_deeper_than_we_read_are_refused():
    from proxy.adapters import Unreadable
    assert extract("generic", b'{"a": {"x": 1, "x": 2}}', "application/json", "/x") == \
        Unreadable("json_duplicate_key")
    deep = {"text": "Leo Fischer"}
    for _ in range(300):
        deep = {"items": deep}
    assert extract("generic", json.dumps(deep).encode(), "application/json", "/x") == Unreadable("body_too_deep")


def test_long_slugs_are_text_not_tokens():
    slug = "Leo_Fischer_behaviour_report_2025_final_version_for_governors_meeting"
    token = "sk-proj-" + "Ab3xY9" * 12
    ex = generic({"title": slug, "key": token})
    assert ex.texts == [slug]


def test_numbers_only_strings_are_scanned_they_may_be_identifiers():
    ex = generic({"fields": [{"label": "NHS", "value": "9434765919"}, {"label": "UPN", "value": "A820106510023"}]})
    assert ex.texts == ["NHS", "9434765919", "UPN", "A820106510023"]


def test_containers_under_id_like_keys_settings_and_schemas_are_read_whole():
    ex = generic({"source": {"text": "Leo Fischer"}, "event": {"body": "Amelia Watson"},
                  "tools": [{"type": "function", "function": {
                      "name": "f", "description": "Notes on Isla Morgan", "strict": True,
                      "parameters": {"type": "object", "required": ["pupil"], "properties": {
                          "pupil": {"type": "string", "description": "Harry Evans or Ruby Clarke",
                                    "enum": ["Harry Evans", "Ruby Clarke"], "pattern": "^[A-Z]"},
                          "name": {"type": "string", "title": "Full name", "format": "date"}}}}}],
                  "response_format": {"type": "json_schema", "json_schema": {"name": "report",
                                                                            "description": "pupil"}},
                  "generationConfig": {"temperature": 0.2, "responseMimeType": "application/json",
                                       "responseModalities": ["TEXT"],
                                       "responseSchema": {"type": "OBJECT", "description": "Class 9R"}},
                  "safetySettings": [{"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "threshold": "BLOCK_NONE"}],
                  "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["f"]}}})
    # tool names, required lists, patterns and settings lists are read too ("pupil" as a key is a protocol word)
    assert ex.texts == ["Leo Fischer", "Amelia Watson", "f", "Notes on Isla Morgan", "pupil",
                        "Harry Evans or Ruby Clarke", "Harry Evans", "Ruby Clarke", "^[A-Z]", "Full name", "report",
                        "pupil", "TEXT", "Class 9R", "f"]


def test_json_inside_a_string_is_walked_and_rewritten_in_its_own_style():
    inner = json.dumps({"note": "Leo Fischer is late", "id": "x1"}, separators=(",", ":"))
    ex = generic({"payload": inner, "other": "hello"})
    assert ex.texts == ["Leo Fischer is late", "hello", "other"]
    after = json.loads(ex.rebuild(["[PUPIL_1] is late", "hello", "other"]))
    assert after["payload"] == '{"note":"[PUPIL_1] is late","id":"x1"}'


def test_base64_and_data_url_text_in_unknown_json_is_decoded():
    text_b64 = base64.b64encode(("Class list for 9R: Leo Fischer, Amelia Watson, Isla Morgan, "
                                 "Harry Evans, Ruby Clarke\n").encode()).decode()
    data_url = "data:text/plain,Leo%20Fischer%20notes"
    ex = generic({"fileName": "9R.txt", "content": text_b64, "inline": data_url})
    assert ex.texts[0] == "9R.txt"
    assert ex.texts[1].startswith("Class list for 9R: Leo Fischer")
    assert ex.texts[2] == "Leo Fischer notes"
    after = json.loads(ex.rebuild(["9R.txt", ex.texts[1].replace("Leo Fischer", "[PUPIL_1]"),
                                   "[PUPIL_1] notes"]))
    assert base64.b64decode(after["content"]).startswith(b"Class list for 9R: [PUPIL_1],")
    assert after["inline"] == "data:text/plain,%5BPUPIL_1%5D%20notes"


def test_form_fallback_reads_every_field_and_walks_json_fields():
    body = b"at=AJvLN6M%3A17&csrf_token=zz&q=Leo+Fischer&meta=%7B%22who%22%3A%22Amelia%22%7D"
    ex = extract("generic", body, "application/x-www-form-urlencoded", "/x")
    # a two-letter "token" is not of a token's shape, so it is read; so is the JSON key "who"
    assert ex.texts == ["zz", "Leo Fischer", "Amelia", "who"]
    new = ex.rebuild(["zz", "[PUPIL_1]", "[PUPIL_2]", "who"])
    assert new.startswith(b"at=AJvLN6M%3A17&csrf_token=zz&q=%5BPUPIL_1%5D&meta=")


def test_base64_documents_in_unknown_json_are_read_or_block():
    # grok.com upload-file: {"fileName", "fileMimeType", "content": base64}
    from proxy.adapters import Unreadable
    for data, marker in ((make_pdf("Report on Leo Fischer"), "Report on Leo Fischer"),
                         (make_docx(), "Pastoral note for Amelia Watson")):
        body = json.dumps({"fileName": "r", "fileMimeType": "application/octet-stream",
                           "content": base64.b64encode(data).decode()}).encode()
        ex = extract("upload", body, "application/json", "/rest/app-chat/upload-file")
        assert isinstance(ex, Extraction) and any(marker in t for t in ex.texts)
        assert ex.rebuild([t + "!" for t in ex.texts]) is None  # not a redaction the file can carry: block
    encrypted = base64.b64encode(make_pdf("x", encrypt=True)).decode()
    body = json.dumps({"content": encrypted}).encode()
    assert extract("generic", body, "application/json", "/x") == Unreadable("file_encrypted:pdf")


PLAN = "Write a support plan for Leo Fischer (UPN A820106510023), who has ADHD."


def chat(prompt: str) -> tuple[bytes, Extraction]:
    body = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": prompt}]}).encode()
    ex = extract("openai_chat", body, "application/json", "/v1/chat/completions")
    assert isinstance(ex, Extraction) and ex.rebuild(ex.texts) is body
    return body, ex


def test_text_hidden_as_base64_inside_a_prompt_is_decoded_and_scanned_read_only():
    encoded = base64.b64encode(PLAN.encode()).decode()
    prompt = f"Decode this and do what it says: {encoded}"
    body, ex = chat(prompt)
    assert ex.texts == [prompt, PLAN] and "base64_text_decoded" in ex.notes
    # the decoded copy cannot be redacted in place: a change there means "block"
    assert ex.rebuild([prompt, PLAN.replace("Leo Fischer", "[PUPIL_1]")]) is None
    edited = ex.rebuild(["Please decode: " + encoded, PLAN])
    assert json.loads(edited)["messages"][0]["content"] == "Please decode: " + encoded


def test_wrapped_and_url_safe_base64_runs_are_decoded_too():
    wrapped = base64.encodebytes((PLAN + " " + PLAN).encode()).decode()  # 76-column lines
    _, ex = chat("Here:\n" + wrapped)
    assert ex.texts[1:] == [PLAN + " " + PLAN]
    urlsafe = base64.urlsafe_b64encode(("Zoë O'Brien?>>" + PLAN).encode()).decode()
    _, ex = chat("token " + urlsafe)
    assert ex.texts[1:] == ["Zoë O'Brien?>>" + PLAN]


def test_keys_hashes_words_and_binary_base64_are_not_decoded_as_text():
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(64))).decode()
    for prompt in (f"Why does this image fail? {png}",
                   "My key sk-proj-Ab3xY9Ab3xY9Ab3xY9Ab3xY9Ab3xY9Ab3xY9 stopped working",
                   "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 is wrong",
                   "Spell antidisestablishmentarianismfloccinaucinihilipilification please"):
        _, ex = chat(prompt)
        assert ex.texts == [prompt], prompt
