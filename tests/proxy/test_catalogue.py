"""The AI endpoint catalogue: hosts to intercept, prompt paths, adapters, and clear errors for a bad file."""
import re
from pathlib import Path

import pytest

from detectors.allowlist import load_allowlist
from proxy.adapters import ADAPTERS, WS_ADAPTERS
from proxy.catalogue import Catalogue, CatalogueError

REPO = Path(__file__).resolve().parents[2]
EXPECTED_IDS = {"chatgpt", "claude", "gemini", "copilot", "m365-copilot", "perplexity", "deepseek", "meta-ai",
                "grok", "character-ai", "poe", "le-chat", "openai-api", "azure-openai", "anthropic-api",
                "gemini-api", "mistral-api", "deepseek-api", "groq-api", "xai-api", "perplexity-api"}


@pytest.fixture(scope="module")
def cat():
    return Catalogue.load()


def test_shipped_catalogue_has_every_service_of_the_reference(cat):
    assert EXPECTED_IDS <= set(cat.ids())
    for s in cat.services:
        assert s.adapter in ADAPTERS
        assert s.ws_adapter is None or s.ws_adapter in WS_ADAPTERS
        assert s.prompt_paths or s.websocket_paths, s.id


def test_allowlist_tool_ids_are_catalogue_ids(cat):
    allow = load_allowlist(REPO / "allowlist.yaml")
    unknown = set(allow.tools) - set(cat.ids())
    assert not unknown, f"allowlist.yaml names tools the catalogue does not know: {unknown}"


@pytest.mark.parametrize("host,path,service,kind,adapter", [
    ("chatgpt.com", "/backend-api/f/conversation", "chatgpt", "prompt", "chatgpt_web"),
    ("chatgpt.com", "/backend-api/conversation", "chatgpt", "prompt", "chatgpt_web"),
    ("chatgpt.com", "/backend-anon/f/conversation", "chatgpt", "prompt", "chatgpt_web"),
    ("chatgpt.com", "/backend-api/f/conversation/prepare", "chatgpt", "prompt", "chatgpt_web"),
    ("chatgpt.com", "/backend-api/files", "chatgpt", "upload", "upload"),
    ("chatgpt.com", "/c/6741c9d2", "chatgpt", "other", None),
    ("claude.ai", "/api/organizations/0f1e/chat_conversations/9a8b/completion", "claude", "prompt", "claude_web"),
    ("gemini.google.com", "/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate?bl=boq&_reqid=1",
     "gemini", "prompt", "gemini_web"),
    ("gemini.google.com", "/u/1/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate",
     "gemini", "prompt", "gemini_web"),
    ("content-push.googleapis.com", "/upload/", "gemini", "upload", "upload"),
    ("copilot.microsoft.com", "/c/api/chat?api-version=2", "copilot", "websocket", "copilot_ws"),
    ("substrate.office.com", "/m365Copilot/Chathub/abc@def?X=1", "m365-copilot", "websocket", "m365_copilot_ws"),
    ("www.perplexity.ai", "/rest/sse/perplexity_ask", "perplexity", "prompt", "perplexity"),
    ("chat.deepseek.com", "/api/v0/chat/completion", "deepseek", "prompt", "deepseek_web"),
    ("www.meta.ai", "/api/graphql/", "meta-ai", "prompt", "meta_ai"),
    ("grok.com", "/rest/app-chat/conversations/new", "grok", "prompt", "grok"),
    ("grok.com", "/rest/app-chat/conversations/abc/responses", "grok", "prompt", "grok"),
    ("neo.character.ai", "/ws/", "character-ai", "websocket", "character_ai_ws"),
    ("poe.com", "/api/gql_POST", "poe", "prompt", "poe"),
    ("chat.mistral.ai", "/api/trpc/message.newChat?batch=1", "le-chat", "prompt", "le_chat"),
    ("api.openai.com", "/v1/chat/completions", "openai-api", "prompt", "openai_chat"),
    ("api.openai.com", "/v1/responses", "openai-api", "prompt", "openai_chat"),
    ("api.openai.com", "/v1/files", "openai-api", "upload", "upload"),
    ("api.openai.com", "/v1/uploads/upload_abc/parts", "openai-api", "upload", "upload"),
    ("api.openai.com", "/v1/realtime?model=gpt-realtime", "openai-api", "websocket", "openai_realtime_ws"),
    ("api.openai.com", "/v1/models", "openai-api", "other", None),
    ("myschool.openai.azure.com", "/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21",
     "azure-openai", "prompt", "openai_chat"),
    ("api.anthropic.com", "/v1/messages", "anthropic-api", "prompt", "anthropic_messages"),
    ("api.anthropic.com", "/v1/messages/count_tokens", "anthropic-api", "prompt", "anthropic_messages"),
    ("generativelanguage.googleapis.com", "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
     "gemini-api", "prompt", "gemini_api"),
    ("generativelanguage.googleapis.com", "/v1beta/openai/chat/completions", "gemini-api", "prompt", "openai_chat"),
    ("generativelanguage.googleapis.com", "/upload/v1beta/files", "gemini-api", "upload", "upload"),
    ("api.deepseek.com", "/chat/completions", "deepseek-api", "prompt", "openai_chat"),
    ("api.deepseek.com", "/anthropic/v1/messages", "deepseek-api", "prompt", "anthropic_messages"),
    ("api.groq.com", "/openai/v1/chat/completions", "groq-api", "prompt", "openai_chat"),
    ("api.x.ai", "/v1/chat/completions", "xai-api", "prompt", "openai_chat"),
    ("api.mistral.ai", "/v1/chat/completions", "mistral-api", "prompt", "openai_chat"),
    ("api.perplexity.ai", "/chat/completions", "perplexity-api", "prompt", "openai_chat"),
    # AI hosts beyond each service's main one, and AI-only sites scanned generically
    ("ws.chatgpt.com", "/ws/user", "chatgpt", "other", None),
    ("api.claude.ai", "/api/organizations/0f1e/chat_conversations/9a8b/completion", "claude", "prompt", "claude_web"),
    ("sydney.bing.com", "/sydney/ChatHub", "copilot", "websocket", "m365_copilot_ws"),
    ("edgeservices.bing.com", "/edgesvc/chat", "copilot", "other", None),
    ("alkalimakersuite-pa.clients6.google.com",
     "/$rpc/google.internal.alkali.applications.makersuite.v1.MakerSuiteService/GenerateContent",
     "google-ai-studio", "prompt", "generic"),
    ("notebooklm.google.com", "/_/LabsTailwindUi/data/batchexecute?rpcids=x", "notebooklm", "prompt", "generic"),
    ("chat.qwen.ai", "/api/v2/chat/completions", "qwen", "prompt", "openai_chat"),
    ("you.com", "/api/streamingSearch", "you-com", "prompt", "generic"),
    ("pi.ai", "/api/chat", "pi", "prompt", "generic"),
    ("www.phind.com", "/api/infer/answer", "phind", "prompt", "generic"),
])
def test_match(cat, host, path, service, kind, adapter):
    m = cat.match(host, path)
    assert m is not None
    assert (m.service.id, m.kind, m.adapter) == (service, kind, adapter)


@pytest.mark.parametrize("path", [
    "/v1/chat/completions/", "//v1/chat/completions", "/v1//chat/completions", "/v1/chat/%63ompletions",
    "/v1/chat%2Fcompletions", "/v1/chat/completions;x=1", "/v1;v=2/chat/completions/", "/v1/./chat/x/../completions",
    "/v1/chat/completions%3Bjsessionid=1?stream=true",
])
def test_spelling_variants_of_a_prompt_path_get_its_adapter(cat, path):
    # servers decode escapes, drop ;params and merge slashes: each of these reaches the chat endpoint
    m = cat.match("api.openai.com", path)
    assert (m.kind, m.adapter) == ("prompt", "openai_chat"), path


def test_normalising_keeps_other_paths_apart_and_patterns_with_a_trailing_slash_match(cat):
    assert cat.match("api.openai.com", "/v1/models/").kind == "other"
    assert cat.match("api.openai.com", "/v1/chat/completionsX").kind == "other"
    assert cat.match("api.openai.com", "/").kind == "other"
    for path in ("/api/graphql", "/api/graphql/", "//api//graphql//"):  # the pattern is '/api/graphql/?'
        assert cat.match("www.meta.ai", path).adapter == "meta_ai", path
    assert cat.match("content-push.googleapis.com", "/upload/").kind == "upload"
    assert cat.match("neo.character.ai", "/ws").kind == "websocket"
    assert cat.match("api.openai.com", "/v1/%66iles").kind == "upload"


def test_hosts_are_case_and_port_insensitive_and_wildcards_need_a_label(cat):
    assert cat.for_host("API.OpenAI.com:443").id == "openai-api"
    assert cat.for_host("chatgpt.com.").id == "chatgpt"
    assert cat.for_host("a.b.openai.azure.com").id == "azure-openai"
    assert cat.for_host("openai.azure.com") is None  # "*." means a sub-domain, not the bare domain
    assert cat.for_host("evilopenai.azure.com") is None
    assert cat.for_host("example.com") is None
    assert cat.match("www.bbc.co.uk", "/news") is None


def test_allow_hosts_regexes_match_what_mitmproxy_checks(cat):
    # mitmproxy's next_layer searches each regex in "host:port" strings, case-insensitively
    rx = [re.compile(r, re.IGNORECASE) for r in cat.allow_hosts_regexes()]

    def intercepted(hostport):
        return any(r.search(hostport) for r in rx)

    for s in cat.services:
        for h in s.hosts:
            assert intercepted((h.replace("*", "school") + ":443")), h
    assert intercepted("Chatgpt.COM:443")
    assert intercepted("trust-a.openai.azure.com:443")
    for other in ("example.com:443", "chatgpt.com.evil.net:443", "notchatgpt.com:443", "openai.azure.com:443",
                  "api.openai.com.attacker.io:443", "10.0.0.1:443", "google.com:443", "microsoft.com:443"):
        assert not intercepted(other), other


def _write(tmp_path, text):
    p = tmp_path / "catalogue.yaml"
    p.write_text(text)
    return p


GOOD = """version: 1
services:
  - id: chatgpt
    name: ChatGPT
    kind: web
    hosts: [chatgpt.com]
    adapter: chatgpt_web
    prompt_paths: ['/backend-api/f/conversation']
    error_shape: html
"""


def test_small_custom_catalogue_loads(tmp_path):
    cat = Catalogue.load(_write(tmp_path, GOOD))
    assert cat.ids() == ["chatgpt"]


@pytest.mark.parametrize("change,message", [
    (("adapter: chatgpt_web", "adapter: chatgtp_web"), r"line 7: services\.0\.adapter: unknown adapter 'chatgtp_web'"),
    (("'/backend-api/f/conversation'", "'/backend-api/(f/conversation'"), r"line 8: .*invalid path regex"),
    (("hosts: [chatgpt.com]", "hosts: [https://chatgpt.com/]"), r"line 6: services\.0\.hosts: .*not a lower-case host"),
    (("error_shape: html", "error_shape: xml"), r"line 9: services\.0\.error_shape"),
    (("kind: web", "kind: web\n    colour: blue"), r"colour: Extra inputs are not permitted"),
    (("version: 1", "version: 2"), r"version"),
])
def test_bad_catalogue_errors_name_line_and_field(tmp_path, change, message):
    with pytest.raises(CatalogueError, match=message):
        Catalogue.load(_write(tmp_path, GOOD.replace(*change)))


def test_duplicate_hosts_and_ids_are_refused(tmp_path):
    dup = GOOD + GOOD.split("services:\n", 1)[1].replace("id: chatgpt", "id: other")
    with pytest.raises(CatalogueError, match="host 'chatgpt.com' is in both 'chatgpt' and 'other'"):
        Catalogue.load(_write(tmp_path, dup))
    with pytest.raises(CatalogueError, match="duplicate service id"):
        Catalogue.load(_write(tmp_path, GOOD + GOOD.split("services:\n", 1)[1].replace("chatgpt.com", "x.com")))


def test_websocket_paths_need_an_adapter_and_yaml_errors_are_clear(tmp_path):
    with pytest.raises(CatalogueError, match="websocket_paths need a ws_adapter"):
        Catalogue.load(_write(tmp_path, GOOD + "    websocket_paths: ['/ws']\n"))
    # a path may name its own WebSocket adapter; then the service needs none
    cat = Catalogue.load(_write(tmp_path, GOOD + "    websocket_paths: [{path: '/hub', adapter: m365_copilot_ws}]\n"))
    svc = cat.service("chatgpt")
    assert svc.ws_adapter is None and svc.ws_adapter_for("/hub/") == "m365_copilot_ws" and svc.websocket
    with pytest.raises(CatalogueError, match="unknown WebSocket adapter 'chatgpt_web'"):
        Catalogue.load(_write(tmp_path, GOOD + "    websocket_paths: [{path: '/hub', adapter: chatgpt_web}]\n"))
    with pytest.raises(CatalogueError, match="line"):
        Catalogue.load(_write(tmp_path, GOOD + "  - id: [unclosed\n"))
    with pytest.raises(CatalogueError, match="expected a mapping"):
        Catalogue.load(_write(tmp_path, "- just\n- a list\n"))
