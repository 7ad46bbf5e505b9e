// The peer's compute alone: every file of homelab.jsonnet rendered into one
// stream on stdout (`jsonnet -S stream.jsonnet > /dev/null`).
local files = import 'homelab.jsonnet';
std.join('---\n', [files[path] for path in std.objectFields(files)])
