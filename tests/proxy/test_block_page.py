"""What a teacher sees when pupilguard blocks a page, and what a program gets instead."""
from proxy.notices import Notice
from proxy.responses import Refusal, SchoolStyle, error_body, notice_page

WELSH_SCHOOL = {"PUPILGUARD_SCHOOL_NAME": "Ysgol <Gymraeg> & Co", "PUPILGUARD_SCHOOL_COLOUR": "#00594f",
                "PUPILGUARD_SCHOOL_LOGO_URL": "https://school.example/logo.png", "PUPILGUARD_PAGE_LANGUAGES": "cy,en"}


def _tool_blocked(**kwargs) -> Refusal:
    return Refusal(tool="Grok", reasons=["tool_blocked"], policy_url="https://school.example/ai-policy", **kwargs)


def test_block_page_lists_browser_tools_once_and_no_apis():
    refusal = _tool_blocked(approved_tools=["ChatGPT", "OpenAI API", "Gemini", "ChatGPT", "Gemini API"])
    page = notice_page(refusal, SchoolStyle())
    assert page.count("<li>ChatGPT</li>") == 1 and page.count("<li>Gemini</li>") == 1
    assert "API" not in page
    assert page.count("ChatGPT") == 1  # the reason sentence does not repeat the list
    # The in-page banner offers the same alternatives.
    notice = Notice.blocked(tool="Grok", entities={}, reasons=["tool_blocked"], approved_tools=refusal.approved_tools)
    assert notice.approved_tools == ("ChatGPT", "Gemini")


def test_content_blocks_offer_no_other_tools():
    refusal = Refusal(tool="ChatGPT", reasons=["special_category_with_identifier"],
                      entities={"PUPIL": 1, "SPECIAL_CATEGORY:SEN": 1}, approved_tools=["ChatGPT", "Gemini"])
    page = notice_page(refusal, SchoolStyle())
    assert "<li>" not in page and "pupil data that may not be sent to ChatGPT" in page


def test_school_name_logo_colour_and_welsh_first():
    style = SchoolStyle.from_env(WELSH_SCHOOL)
    page = notice_page(_tool_blocked(approved_tools=["Gemini"]), style)
    assert '<html lang="cy">' in page
    assert page.index('<section lang="cy">') < page.index('<section lang="en">')
    assert "Mae Grok wedi&#x27;i rwystro" in page and "Grok is blocked" in page
    assert "Offer AI y gallwch eu defnyddio:" in page and "Darllenwch bolisi AI yr ysgol" in page
    assert "Ysgol &lt;Gymraeg&gt; &amp; Co" in page and "<Gymraeg>" not in page
    assert 'src="https://school.example/logo.png"' in page and "#00594f" in page


def test_unsafe_branding_values_are_refused():
    style = SchoolStyle.from_env({"PUPILGUARD_SCHOOL_COLOUR": "red}</style><script>x()</script>",
                                  "PUPILGUARD_SCHOOL_LOGO_URL": "javascript:alert(1)",
                                  "PUPILGUARD_PAGE_LANGUAGES": "fr"})
    assert style == SchoolStyle()
    page = notice_page(_tool_blocked(), style)
    assert "<script" not in page and "javascript:" not in page and '<html lang="en">' in page


def test_api_clients_get_a_distinct_code_for_a_blocked_tool():
    tool = error_body("openai", _tool_blocked(approved_tools=["OpenAI API"]))["error"]
    data = error_body("openai", Refusal(tool="OpenAI API", reasons=["pupil_data"], entities={"UK_UPN": 1}))["error"]
    assert tool["code"] == "tool_not_approved" and data["code"] == "pupil_data_blocked"
    assert "Approved AI tools: OpenAI API." in tool["message"]  # a program is told which API it may use
    assert "a UPN" in data["message"]
    anthropic = error_body("anthropic", _tool_blocked())
    assert anthropic["type"] == "error" and anthropic["error"]["type"] == "permission_error"
