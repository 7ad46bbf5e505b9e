// The peer's compute alone: every file of homelab.jsonnet rendered into one
// stream on stdout (`jsonnet -S stream.jsonnet > /dev/null`; with
// `--tla-code perAppDashboards=true`, one dashboard per app).
function(perAppDashboards=false)
local files = (import 'homelab.jsonnet')(perAppDashboards);
std.join('---\n', [files[path] for path in std.objectFields(files)])
