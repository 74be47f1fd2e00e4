"""The keys pupilguard's addons use in `flow.metadata`, in one place: one addon writes what another reads, so a
key spelt twice would silently break the hand-over."""

TOOL = "pupilguard.tool"                  # the catalogued tool id the flow was matched to (None: not an AI host)
HOST = "pupilguard.host"                  # the catalogued host name the flow was matched by
GROUPS = "pupilguard.groups"              # the proxy-authenticated user's directory groups
PLACEHOLDERS = "pupilguard.placeholders"  # placeholder -> original text, for restoring the AI's reply
RESTORE = "pupilguard.restore"            # True when this tool's replies get the placeholders restored
BROWSER_ID = "pupilguard.browser_id"      # the notice cookie's browser id
ORIGIN = "pupilguard.origin"              # the browser-visible origin, snapshotted before anyone re-routes
INTERNAL = "pupilguard.internal"          # a reply an addon made itself (a notice, a block page)
