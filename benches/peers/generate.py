#!/usr/bin/env python3
"""The peers' inputs for the N apps of benches/build.rs's homelab.

    python3 benches/peers/generate.py N DIR

Writes into DIR (benches/whole.sh uses $DISK/peer-N):
  - apps.json and the *.jsonnet of benches/peers/ (the jsonnet peer);
  - chart/, the Helm chart of benches/peers/chart/ with its dashboard, and
    values.yaml, the N apps for it (the helm peer: `helm template bench chart -f values.yaml`);
  - kustomize/, a kustomize tree as a kustomize user stamps out N similar
    apps: one base for an app (base/app) and one for a namespace
    (base/namespace), one overlay per app (apps/NS/APP: nameSuffix, labels,
    images and JSON patches for what differs), one kustomization per
    namespace (the namespace, its apps, and the patches that wire the
    namespace's depends-on chain into the NetworkPolicies: they must come
    after the app's own label transformer, which would rewrite them), the
    dashboards, and two roots: kustomize/shared (one templated dashboard for
    all apps) and kustomize/per-app (one dashboard per app, generated here
    as a kustomize user would commit them).

Each app is {name, ns, index, depends, dependent}: app-A in namespace
ns-(A/50), depending on the previous app of its namespace (benches/build.rs).
"""
import hashlib
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REGISTRY = "10.0.0.5:5000"
DOMAIN = "lab.example.com"


def apps(n):
    def app(a):
        last = a % 50 == 49 or a + 1 == n
        return {"name": f"app-{a}", "ns": f"ns-{a // 50}", "index": a,
                "depends": f"app-{a - 1}" if a % 50 else None,
                "dependent": None if last else f"app-{a + 1}"}
    return [app(a) for a in range(n)]


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def per_app_dashboard(shared, app):
    """The per-app dashboard: the shared one with its variables filled in (as the chart does)."""
    uid = hashlib.sha1(f"app:{app['ns']}/{app['name']}".encode()).hexdigest()[:16]
    return (shared.replace("$namespace", app["ns"]).replace("$app", app["name"])
            .replace('"uid": "homelabc-apps"', f'"uid": "{uid}"')
            .replace('"title": "Apps"', f'"title": "{app["name"]}"'))


# The base of an app: every object named `app`, its image bench/app, its
# secret `db`; the overlays rename and patch.
# The head of every base's kustomization: the managed-by label on its objects.
LABELLED = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
labels:
  - pairs:
      app.kubernetes.io/managed-by: homelabc
"""

BASE_APP = {
    "kustomization.yaml": LABELLED + """\
    includeTemplates: true
resources:
  - deployment.yaml
  - externalsecret.yaml
  - ingress.yaml
  - networkpolicy.yaml
  - poddisruptionbudget.yaml
  - service.yaml
  - serviceaccount.yaml
  - servicemonitor.yaml
""",
    "deployment.yaml": f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: app
  template:
    metadata:
      labels:
        app.kubernetes.io/name: app
    spec:
      automountServiceAccountToken: false
      containers:
        - name: app
          env:
            - name: LOG_LEVEL
              value: info
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: db
                  key: password
          image: {REGISTRY}/bench/app:latest
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            initialDelaySeconds: 10
          ports:
            - name: http
              containerPort: 8080
              protocol: TCP
            - name: metrics
              containerPort: 9090
              protocol: TCP
          readinessProbe:
            httpGet:
              path: /ready
              port: http
          resources:
            limits:
              cpu: 100m
              memory: 64Mi
            requests:
              cpu: 10m
              memory: 16Mi
          securityContext:
            allowPrivilegeEscalation: false
            capabilities:
              drop:
                - ALL
            readOnlyRootFilesystem: true
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      imagePullSecrets:
        - name: registry-auth
      securityContext:
        fsGroup: 65532
        runAsGroup: 65532
        runAsNonRoot: true
        runAsUser: 65532
        seccompProfile:
          type: RuntimeDefault
      serviceAccountName: app
      topologySpreadConstraints:
        - labelSelector:
            matchLabels:
              app.kubernetes.io/name: app
          maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
      volumes:
        - name: tmp
          emptyDir: {{}}
""",
    "externalsecret.yaml": """\
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: db
spec:
  dataFrom:
    - extract:
        key: apps/app
  refreshInterval: 1h
  secretStoreRef:
    name: vault
    kind: ClusterSecretStore
  target:
    name: db
    creationPolicy: Owner
""",
    "ingress.yaml": f"""\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: app
  annotations:
    cert-manager.io/cluster-issuer: bench-ca
spec:
  ingressClassName: traefik
  rules:
    - host: app.{DOMAIN}
      http:
        paths:
          - backend:
              service:
                name: app
                port:
                  name: http
            path: /
            pathType: Prefix
  tls:
    - hosts:
        - app.{DOMAIN}
      secretName: app-tls
""",
    "networkpolicy.yaml": """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: app
spec:
  egress: []
  ingress:
    - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: kube-system
      ports:
        - port: 8080
          protocol: TCP
    - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: monitoring
      ports:
        - port: 9090
          protocol: TCP
  podSelector:
    matchLabels:
      app.kubernetes.io/name: app
  policyTypes:
    - Ingress
    - Egress
""",
    "poddisruptionbudget.yaml": """\
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: app
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: app
""",
    "service.yaml": """\
apiVersion: v1
kind: Service
metadata:
  name: app
spec:
  ports:
    - name: http
      port: 80
      protocol: TCP
      targetPort: http
    - name: metrics
      port: 9090
      protocol: TCP
      targetPort: metrics
  selector:
    app.kubernetes.io/name: app
  type: ClusterIP
""",
    "serviceaccount.yaml": """\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: app
automountServiceAccountToken: false
""",
    "servicemonitor.yaml": """\
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: app
  labels:
    release: kube-prometheus-stack
spec:
  endpoints:
    - interval: 30s
      path: /metrics
      port: metrics
  selector:
    matchLabels:
      app.kubernetes.io/name: app
""",
}

BASE_NAMESPACE = {
    "kustomization.yaml": LABELLED + """\
resources:
  - namespace.yaml
  - externalsecret-registry-auth.yaml
""",
    # The namespace transformer of the namespace's kustomization renames it.
    "namespace.yaml": """\
apiVersion: v1
kind: Namespace
metadata:
  name: namespace
  labels:
    pod-security.kubernetes.io/enforce: restricted
""",
    "externalsecret-registry-auth.yaml": """\
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: registry-auth
spec:
  dataFrom:
    - extract:
        key: registry
  refreshInterval: 1h
  secretStoreRef:
    name: vault
    kind: ClusterSecretStore
  target:
    name: registry-auth
    creationPolicy: Owner
""",
}


def overlay(app):
    """An app's overlay: its base renamed (`app` + `-A`), relabelled, its image, and JSON patches."""
    a, name = app["index"], app["name"]
    host = f"{name}.{DOMAIN}"
    return f"""\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../../base/app
nameSuffix: "-{a}"
labels:
  - pairs:
      app.kubernetes.io/name: {name}
    includeSelectors: true
images:
  - name: {REGISTRY}/bench/app
    newName: {REGISTRY}/bench/{name}
    newTag: 1.0.{a}
patches:
  - target:
      kind: Deployment
    patch: |-
      - op: replace
        path: /spec/template/spec/containers/0/name
        value: {name}
      - op: replace
        path: /spec/template/spec/containers/0/env/1/valueFrom/secretKeyRef/name
        value: db-{a}
  - target:
      kind: ExternalSecret
    patch: |-
      - op: replace
        path: /spec/dataFrom/0/extract/key
        value: apps/{a}
      - op: replace
        path: /spec/target/name
        value: db-{a}
  - target:
      kind: Ingress
    patch: |-
      - op: replace
        path: /spec/rules/0/host
        value: {host}
      - op: replace
        path: /spec/tls/0/hosts/0
        value: {host}
      - op: replace
        path: /spec/tls/0/secretName
        value: {name}-tls
  - target:
      kind: ServiceMonitor
    patch: |-
      - op: replace
        path: /spec/selector/matchLabels/app.kubernetes.io~1name
        value: {name}
"""


def peer(ns, name):
    return (f"{{to_from: [{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: {ns}}}}}, "
            f"podSelector: {{matchLabels: {{app.kubernetes.io/name: {name}}}}}}}], "
            f"ports: [{{port: 8080, protocol: TCP}}, {{port: 9090, protocol: TCP}}]}}")


def namespace_kustomization(ns, members):
    lines = ["apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization",
             f"namespace: {ns}", "resources:", "  - ../../base/namespace"]
    lines += [f"  - {app['name']}" for app in members]
    patches = []
    for app in members:
        ops = []
        if app["depends"]:
            ops.append(("/spec/egress/-", peer(ns, app["depends"]).replace("to_from", "to")))
        if app["dependent"]:
            ops.append(("/spec/ingress/-", peer(ns, app["dependent"]).replace("to_from", "from")))
        if ops:
            patches.append(f"  - target:\n      kind: NetworkPolicy\n      name: {app['name']}\n    patch: |-")
            for path, value in ops:
                patches.append(f"      - op: add\n        path: {path}\n        value: {value}")
    if patches:
        lines += ["patches:"] + patches
    return "\n".join(lines) + "\n"


DASHBOARD_OPTIONS = """\
generatorOptions:
  disableNameSuffixHash: true
  labels:
    app.kubernetes.io/managed-by: homelabc
    grafana_dashboard: "1"
"""


def kustomize(root, all_apps, shared):
    for name, text in BASE_APP.items():
        write(os.path.join(root, "base/app", name), text)
    for name, text in BASE_NAMESPACE.items():
        write(os.path.join(root, "base/namespace", name), text)
    namespaces = {}
    for app in all_apps:
        namespaces.setdefault(app["ns"], []).append(app)
        write(os.path.join(root, "apps", app["ns"], app["name"], "kustomization.yaml"), overlay(app))
    for ns, members in namespaces.items():
        write(os.path.join(root, "apps", ns, "kustomization.yaml"), namespace_kustomization(ns, members))
    # The dashboards: one shared, or one per app (each its JSON file).
    write(os.path.join(root, "dashboards/shared/apps.json"), shared)
    write(os.path.join(root, "dashboards/shared/kustomization.yaml"),
          "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: monitoring\n"
          + DASHBOARD_OPTIONS + "configMapGenerator:\n  - name: dashboard-apps\n    files:\n      - apps.json\n")
    entries = []
    for app in all_apps:
        write(os.path.join(root, "dashboards/per-app", app["ns"], app["name"] + ".json"), per_app_dashboard(shared, app))
        entries.append(f"  - name: dashboard-{app['ns']}-{app['name']}\n    files:\n"
                       f"      - {app['name']}.json={app['ns']}/{app['name']}.json\n"
                       f"    options:\n      annotations:\n        grafana_folder: {app['ns']}\n")
    write(os.path.join(root, "dashboards/per-app/kustomization.yaml"),
          "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: monitoring\n"
          + DASHBOARD_OPTIONS + "configMapGenerator:\n" + "".join(entries))
    for variant in ("shared", "per-app"):
        write(os.path.join(root, variant, "kustomization.yaml"),
              "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
              + "".join(f"  - ../apps/{ns}\n" for ns in namespaces) + f"  - ../dashboards/{variant}\n")


def main(n, out):
    all_apps = apps(n)
    os.makedirs(out, exist_ok=True)
    # jsonnet
    with open(os.path.join(out, "apps.json"), "w") as f:
        json.dump(all_apps, f)
    for name in ("homelab.jsonnet", "stream.jsonnet"):
        shutil.copy(os.path.join(HERE, name), out)
    # helm
    chart = os.path.join(out, "chart")
    shutil.rmtree(chart, ignore_errors=True)
    shutil.copytree(os.path.join(HERE, "chart"), chart)
    shutil.copytree(os.path.join(HERE, "dashboards"), os.path.join(chart, "dashboards"))
    with open(os.path.join(out, "values.yaml"), "w") as f:
        f.write("apps:\n")
        for app in all_apps:
            f.write(f"  - name: {app['name']}\n    ns: {app['ns']}\n    index: {app['index']}\n"
                    f"    depends: {app['depends'] or 'null'}\n    dependent: {app['dependent'] or 'null'}\n")
    # kustomize
    with open(os.path.join(HERE, "dashboards/apps.json")) as f:
        shared = f.read()
    root = os.path.join(out, "kustomize")
    shutil.rmtree(root, ignore_errors=True)
    kustomize(root, all_apps, shared)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
