// The peer of benches/whole.sh: the objects homelabc makes for each app of
// the generated homelab (benches/build.rs), written the way a Jsonnet user
// would (Tanka-style functions over a list of apps), one YAML file per
// object, keyed by path. `apps.json` is the generated list of apps.
//
// The dashboards: one templated dashboard for all apps (Grafana variables
// namespace and app), or with `--tla-code perAppDashboards=true` one per
// app, as homelabc made before.
function(perAppDashboards=false)
local apps = import 'apps.json';

local labels(app) = {
  'app.kubernetes.io/managed-by': 'homelabc',
  'app.kubernetes.io/name': app.name,
};
local meta(app, name=app.name) = { name: name, labels: labels(app), namespace: app.ns };
local selector(app) = { matchLabels: { 'app.kubernetes.io/name': app.name } };
local nsSelector(ns) = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } } };
local tcp(port) = { port: port, protocol: 'TCP' };

local deployment(app) = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: meta(app),
  spec: {
    replicas: 2,
    selector: selector(app),
    template: {
      metadata: { labels: labels(app) },
      spec: {
        automountServiceAccountToken: false,
        containers: [{
          name: app.name,
          env: [
            { name: 'LOG_LEVEL', value: 'info' },
            { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db-%d' % app.index, key: 'password' } } },
          ],
          image: '10.0.0.5:5000/bench/%s:1.0.%d' % [app.name, app.index],
          livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, initialDelaySeconds: 10 },
          ports: [
            { name: 'http', containerPort: 8080, protocol: 'TCP' },
            { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
          ],
          readinessProbe: { httpGet: { path: '/ready', port: 'http' } },
          resources: { limits: { cpu: '100m', memory: '64Mi' }, requests: { cpu: '10m', memory: '16Mi' } },
          securityContext: {
            allowPrivilegeEscalation: false,
            capabilities: { drop: ['ALL'] },
            readOnlyRootFilesystem: true,
          },
          volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
        }],
        imagePullSecrets: [{ name: 'registry-auth' }],
        securityContext: {
          fsGroup: 65532,
          runAsGroup: 65532,
          runAsNonRoot: true,
          runAsUser: 65532,
          seccompProfile: { type: 'RuntimeDefault' },
        },
        serviceAccountName: app.name,
        topologySpreadConstraints: [{
          labelSelector: selector(app),
          maxSkew: 1,
          topologyKey: 'kubernetes.io/hostname',
          whenUnsatisfiable: 'ScheduleAnyway',
        }],
        volumes: [{ name: 'tmp', emptyDir: {} }],
      },
    },
  },
};

local service(app) = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: meta(app),
  spec: {
    ports: [
      { name: 'http', port: 80, protocol: 'TCP', targetPort: 'http' },
      { name: 'metrics', port: 9090, protocol: 'TCP', targetPort: 'metrics' },
    ],
    selector: { 'app.kubernetes.io/name': app.name },
    type: 'ClusterIP',
  },
};

local ingress(app) = {
  local host = '%s.lab.example.com' % app.name,
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: meta(app) { annotations: { 'cert-manager.io/cluster-issuer': 'bench-ca' } },
  spec: {
    ingressClassName: 'traefik',
    rules: [{
      host: host,
      http: { paths: [{
        backend: { service: { name: app.name, port: { name: 'http' } } },
        path: '/',
        pathType: 'Prefix',
      }] },
    }],
    tls: [{ hosts: [host], secretName: app.name + '-tls' }],
  },
};

local networkPolicy(app) = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: app.name, labels: { 'app.kubernetes.io/managed-by': 'homelabc' }, namespace: app.ns },
  spec: {
    egress: if app.depends == null then [] else [{
      ports: [tcp(8080), tcp(9090)],
      to: [nsSelector(app.ns) { podSelector: { matchLabels: { 'app.kubernetes.io/name': app.depends } } }],
    }],
    ingress: [
      { from: [nsSelector('kube-system')], ports: [tcp(8080)] },
      { from: [nsSelector('monitoring')], ports: [tcp(9090)] },
    ] + (if app.dependent == null then [] else [{
           from: [nsSelector(app.ns) { podSelector: { matchLabels: { 'app.kubernetes.io/name': app.dependent } } }],
           ports: [tcp(8080), tcp(9090)],
         }]),
    podSelector: selector(app),
    policyTypes: ['Ingress', 'Egress'],
  },
};

local pdb(app) = {
  apiVersion: 'policy/v1',
  kind: 'PodDisruptionBudget',
  metadata: meta(app),
  spec: { maxUnavailable: 1, selector: selector(app) },
};

local serviceAccount(app) = {
  apiVersion: 'v1',
  kind: 'ServiceAccount',
  metadata: meta(app),
  automountServiceAccountToken: false,
};

local serviceMonitor(app) = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'ServiceMonitor',
  metadata: meta(app) { labels+: { release: 'kube-prometheus-stack' } },
  spec: { endpoints: [{ interval: '30s', path: '/metrics', port: 'metrics' }], selector: selector(app) },
};

local externalSecret(ns, name, key) = {
  apiVersion: 'external-secrets.io/v1',
  kind: 'ExternalSecret',
  metadata: { name: name, labels: { 'app.kubernetes.io/managed-by': 'homelabc' }, namespace: ns },
  spec: {
    dataFrom: [{ extract: { key: key } }],
    refreshInterval: '1h',
    secretStoreRef: { name: 'vault', kind: 'ClusterSecretStore' },
    target: { name: name, creationPolicy: 'Owner' },
  },
};

// The default app dashboard: three rows of panels over the app's metrics.
local panel(id, title, type, unit, expr, x, y, w) = {
  datasource: { type: 'prometheus', uid: '${datasource}' },
  fieldConfig: {
    defaults: {
      color: { mode: 'palette-classic' },
      custom: {
        drawStyle: 'line',
        fillOpacity: 10,
        lineWidth: 1,
        showPoints: 'never',
        spanNulls: false,
        thresholdsStyle: { mode: 'off' },
      },
      thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }] },
      unit: unit,
    },
    overrides: [],
  },
  gridPos: { h: 8, w: w, x: x, y: y },
  id: id,
  options: {
    legend: { calcs: [], displayMode: 'list', placement: 'bottom', showLegend: true },
    tooltip: { mode: 'multi', sort: 'desc' },
  },
  targets: [{
    datasource: { type: 'prometheus', uid: '${datasource}' },
    expr: expr,
    legendFormat: '{{pod}}',
    range: true,
    refId: 'A',
  }],
  title: title,
  type: type,
};
local row(id, title, y) = { collapsed: false, gridPos: { h: 1, w: 24, x: 0, y: y }, id: id, panels: [], title: title, type: 'row' };

// One app's dashboard, or with `app` null the templated one of all apps.
local variable(name, query) = {
  name: name,
  type: 'query',
  datasource: { type: 'prometheus', uid: '${datasource}' },
  query: { query: query, refId: name },
  refresh: 2,
  sort: 1,
  current: {},
};
local dashboard(app) = {
  local ns = if app == null then '$namespace' else app.ns,
  local name = if app == null then '$app' else app.name,
  local sel = 'namespace="%s", job="%s"' % [ns, name],
  local pod = 'namespace="%s", pod=~"%s-.*"' % [ns, name],
  annotations: { list: [] },
  editable: false,
  graphTooltip: 1,
  links: [],
  panels: [
    row(1, 'Traffic', 0),
    panel(2, 'Requests', 'timeseries', 'reqps', 'sum by (pod) (rate(http_requests_total{%s}[$__rate_interval]))' % sel, 0, 1, 8),
    panel(3, 'Errors', 'timeseries', 'percentunit', 'sum by (pod) (rate(http_requests_total{%s, code=~"5.."}[$__rate_interval])) / sum by (pod) (rate(http_requests_total{%s}[$__rate_interval]))' % [sel, sel], 8, 1, 8),
    panel(4, 'Latency p95', 'timeseries', 's', 'histogram_quantile(0.95, sum by (le, pod) (rate(http_request_duration_seconds_bucket{%s}[$__rate_interval])))' % sel, 16, 1, 8),
    row(5, 'Availability', 9),
    panel(6, 'Ready replicas', 'stat', 'none', 'kube_deployment_status_replicas_ready{namespace="%s", deployment="%s"}' % [ns, name], 0, 10, 12),
    panel(7, 'Restarts', 'stat', 'none', 'sum(increase(kube_pod_container_status_restarts_total{%s}[1h]))' % pod, 12, 10, 12),
    row(8, 'Resources', 18),
    panel(9, 'CPU', 'timeseries', 'short', 'sum by (pod) (rate(container_cpu_usage_seconds_total{%s, container!=""}[$__rate_interval]))' % pod, 0, 19, 12),
    panel(10, 'Memory', 'timeseries', 'bytes', 'sum by (pod) (container_memory_working_set_bytes{%s, container!=""})' % pod, 12, 19, 12),
  ],
  refresh: '30s',
  schemaVersion: 39,
  tags: ['homelabc'] + (if app == null then [] else [app.ns]),
  templating: { list: [{ name: 'datasource', type: 'datasource', query: 'prometheus', current: {} }] + (
    if app == null then [
      variable('namespace', 'label_values(kube_deployment_labels{label_app_kubernetes_io_managed_by="homelabc"}, namespace)'),
      variable('app', 'label_values(kube_deployment_labels{label_app_kubernetes_io_managed_by="homelabc", namespace="$namespace"}, deployment)'),
    ] else []
  ) },
  time: { from: 'now-6h', to: 'now' },
  timezone: 'browser',
  title: if app == null then 'Apps' else app.name,
  uid: if app == null then 'homelabc-apps' else std.md5('app:%s/%s' % [app.ns, app.name])[0:16],
  version: 1,
};

local dashboardMap(app) = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: {
    name: if app == null then 'dashboard-apps' else 'dashboard-%s-%s' % [app.ns, app.name],
    [if app != null then 'annotations']: { grafana_folder: app.ns },
    labels: { 'app.kubernetes.io/managed-by': 'homelabc', grafana_dashboard: '1' },
    namespace: 'monitoring',
  },
  data: { [(if app == null then 'apps' else app.name) + '.json']: std.manifestJsonEx(dashboard(app), '  ') },
};
local yaml(object) = std.manifestYamlDoc(object, indent_array_in_object=true, quote_keys=false) + '\n';

local kustomization(resources) = {
  apiVersion: 'kustomize.config.k8s.io/v1beta1',
  kind: 'Kustomization',
  resources: resources,
};

local appFiles(app) = {
  local dir = 'apps/%s/%s/' % [app.ns, app.name],
  local objects = {
    ['deployment-%s.yaml' % app.name]: deployment(app),
    ['ingress-%s.yaml' % app.name]: ingress(app),
    ['networkpolicy-%s.yaml' % app.name]: networkPolicy(app),
    ['poddisruptionbudget-%s.yaml' % app.name]: pdb(app),
    ['service-%s.yaml' % app.name]: service(app),
    ['serviceaccount-%s.yaml' % app.name]: serviceAccount(app),
    ['servicemonitor-%s.yaml' % app.name]: serviceMonitor(app),
  },
  files: {
    [dir + name]: std.manifestYamlDoc(objects[name], indent_array_in_object=true, quote_keys=false) + '\n'
    for name in std.objectFields(objects)
  } + {
    [dir + 'kustomization.yaml']: std.manifestYamlDoc(kustomization(std.objectFields(objects)), indent_array_in_object=true, quote_keys=false) + '\n',
    ['apps/%s/externalsecret-db-%d.yaml' % [app.ns, app.index]]:
      std.manifestYamlDoc(externalSecret(app.ns, 'db-%d' % app.index, 'apps/%d' % app.index), indent_array_in_object=true, quote_keys=false) + '\n',
  } + (if perAppDashboards then { ['dashboards/%s/%s.yaml' % [app.ns, app.name]]: yaml(dashboardMap(app)) } else {}),
};

local namespaces = std.set([a.ns for a in apps]);
local nsFiles(ns) = {
  ['apps/%s/namespace-%s.yaml' % [ns, ns]]: std.manifestYamlDoc({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: ns, labels: { 'app.kubernetes.io/managed-by': 'homelabc', 'pod-security.kubernetes.io/enforce': 'restricted' } },
  }, indent_array_in_object=true, quote_keys=false) + '\n',
  ['apps/%s/externalsecret-registry-auth.yaml' % ns]: std.manifestYamlDoc(externalSecret(ns, 'registry-auth', 'registry'), indent_array_in_object=true, quote_keys=false) + '\n',
};

local shared = if perAppDashboards then {} else { 'dashboards/apps.yaml': yaml(dashboardMap(null)) };
local pairs = std.flattenArrays([
  [[path, files[path]] for path in std.objectFields(files)]
  for files in [appFiles(a).files for a in apps] + [nsFiles(ns) for ns in namespaces] + [shared]
]);
{ [pair[0]]: pair[1] for pair in pairs }
