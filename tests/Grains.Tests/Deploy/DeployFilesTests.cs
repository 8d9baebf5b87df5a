using System.Diagnostics;
using System.Text.RegularExpressions;
using MtActors.Silo.Observability;
using Orleans.Hosting.Kubernetes;
using static MtActors.Grains.Tests.Deploy.Yaml;

namespace MtActors.Grains.Tests.Deploy;

/// <summary>
/// deploy/ is checked by parsing (no Docker or Kubernetes here): every YAML file must parse, the manifests must hang
/// together (selectors, named ports, secrets, RBAC, probes on the real health paths) and every environment variable
/// they set must be a setting the silo really reads.
/// </summary>
public sealed partial class DeployFilesTests
{
    private static readonly string Root = FindRoot();
    private static readonly string DeployDir = Path.Combine(Root, "deploy");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "MtActors.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("MtActors.sln not found above " + AppContext.BaseDirectory);
    }

    private static IEnumerable<string> YamlFiles() =>
        Directory.EnumerateFiles(DeployDir, "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yml", StringComparison.Ordinal) || f.EndsWith(".yaml", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);

    private static List<Dictionary<string, object?>> K8sDocs() =>
        Directory.EnumerateFiles(Path.Combine(DeployDir, "k8s"), "*.yaml")
            .Where(f => Path.GetFileName(f) != "kustomization.yaml")
            .SelectMany(f => MiniYaml.ParseFile(f).Select((d, i) => Map(d, $"{Path.GetFileName(f)} document {i + 1}")))
            .ToList();

    private static Dictionary<string, object?> One(List<Dictionary<string, object?>> docs, string kind) =>
        Assert.Single(docs, d => Str(d["kind"], "kind") == kind);

    [Fact]
    public void Every_yaml_file_in_deploy_parses_into_non_empty_documents()
    {
        var files = YamlFiles().ToList();
        Assert.True(files.Count >= 8, $"expected the compose file and the k8s manifests, found {files.Count}");
        foreach (var file in files)
        {
            var docs = MiniYaml.ParseFile(file);
            Assert.NotEmpty(docs);
            Assert.All(docs, d => Assert.IsType<Dictionary<string, object?>>(d));
        }
    }

    [Fact]
    public void The_yaml_reader_reads_the_subset_and_rejects_what_it_cannot_read()
    {
        var docs = MiniYaml.Parse("""
            base: &b
              x: "1"   # comment
              y: two
            use:
              <<: *b
              y: three
            list:
            - a
            - k: v
              j: 'it''s'
            flow: ["CMD", "pg_isready -U x", 3]
            text: |
              line one
              # not a comment
            empty: {}
            ---
            second: doc
            """);
        Assert.Equal(2, docs.Count);
        var d = Map(docs[0], "doc");
        Assert.Equal("1", At(d, "use.x"));
        Assert.Equal("three", At(d, "use.y"));
        Assert.Equal("two", At(d, "base.y"));
        var list = Seq(d["list"], "list");
        Assert.Equal("a", list[0]);
        Assert.Equal("it's", At(list[1], "j"));
        Assert.Equal(["CMD", "pg_isready -U x", "3"], Seq(d["flow"], "flow").Cast<string>());
        Assert.Equal("line one\n# not a comment\n", d["text"]);
        Assert.Empty(Map(d["empty"], "empty"));

        foreach (var bad in (string[])[
                     "a:\n\tb: 1", "a: 1\na: 2", "a:\n  b: 1\n   c: 2", "a: \"open", "a: *missing", "a: b: c",
                     "a: [x, [y]]", "a: !tag x", "- a\nb: c"])
        {
            Assert.Throws<YamlException>(() => MiniYaml.Parse(bad));
        }
    }

    [Fact]
    public void Compose_runs_postgres_a_migration_and_three_silos_with_distinct_addresses_and_ports()
    {
        var compose = Map(Assert.Single(MiniYaml.ParseFile(Path.Combine(DeployDir, "docker-compose.yml"))), "compose");
        var services = Map(compose["services"], "services");
        Assert.Contains("postgres", services.Keys);

        var migrate = Map(services["migrate"], "migrate");
        Assert.Equal(["migrate"], Seq(migrate["command"], "migrate.command").Cast<string>());
        Assert.Equal("service_healthy", At(migrate, "depends_on.postgres.condition"));
        AssertBuildsTheSiloImage(migrate, "migrate");

        var silos = services.Where(s => s.Key.StartsWith("silo", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, silos.Count);
        var advertised = new HashSet<string>();
        var hostPorts = new HashSet<string>();
        foreach (var (name, node) in silos)
        {
            var silo = Map(node, name);
            AssertBuildsTheSiloImage(silo, name);
            Assert.Equal("service_completed_successfully", At(silo, "depends_on.migrate.condition"));
            Assert.Equal("service_healthy", At(silo, "depends_on.postgres.condition"));
            var env = Map(silo["environment"], $"{name}.environment");
            Assert.Equal("false", env["MtActors__MigrateOnStart"]);
            Assert.StartsWith("Host=postgres;", Str(env["ConnectionStrings__MtActors"], "connection string"), StringComparison.Ordinal);
            var ip = Str(env["MtActors__AdvertisedIP"], $"{name} AdvertisedIP");
            Assert.Equal(ip, At(silo, "networks.cluster.ipv4_address"));
            Assert.True(advertised.Add(ip), $"{name}: advertised IP {ip} used twice");
            foreach (var port in Seq(silo["ports"], $"{name}.ports").Cast<string>())
            {
                var parts = port.Split(':');
                Assert.Equal("127.0.0.1", parts[0]); // published on loopback only
                Assert.True(hostPorts.Add(parts[1]), $"{name}: host port {parts[1]} published twice");
            }

            Assert.Equal(env["MtActors__Http__Port"], Seq(silo["ports"], "ports").Cast<string>().First().Split(':')[2]);

            // The MTProto endpoint listens on the container's addresses, on a published port, with the shared key.
            Assert.Equal("0.0.0.0", env["MtActors__MtProto__Address"]);
            var mtproto = Str(env["MtActors__MtProto__Port"], $"{name} MtProto port");
            Assert.Contains(Seq(silo["ports"], "ports").Cast<string>(), p => p.Split(':')[2] == mtproto);
            Assert.Contains("mtproto-keys:/var/lib/mtactors/mtproto", Seq(silo["volumes"], $"{name}.volumes").Cast<string>());
        }

        Assert.True(Map(compose["volumes"], "volumes").ContainsKey("mtproto-keys"));

        // Every ${VAR} is well-formed (compose interpolation).
        var text = File.ReadAllText(Path.Combine(DeployDir, "docker-compose.yml"));
        foreach (Match m in Interpolation().Matches(text))
        {
            Assert.Matches(@"^\$\{[A-Z_][A-Z0-9_]*(:?[-?][^}]*)?\}$", m.Value);
        }
    }

    private static void AssertBuildsTheSiloImage(Dictionary<string, object?> service, string name)
    {
        var build = Map(service["build"], $"{name}.build");
        var context = Path.GetFullPath(Path.Combine(DeployDir, Str(build["context"], "context")));
        Assert.Equal(Root.TrimEnd('/'), context.TrimEnd('/'));
        Assert.True(File.Exists(Path.Combine(context, Str(build["dockerfile"], "dockerfile"))), $"{name}: Dockerfile not found");
    }

    [Fact]
    public void Kubernetes_manifests_hang_together()
    {
        var docs = K8sDocs();
        foreach (var doc in docs)
        {
            Assert.False(string.IsNullOrEmpty(Str(doc["apiVersion"], "apiVersion")));
            Assert.False(string.IsNullOrEmpty(Str(At(doc, "metadata.name"), "metadata.name")));
        }

        var kustomization = Map(Assert.Single(MiniYaml.ParseFile(Path.Combine(DeployDir, "k8s", "kustomization.yaml"))), "kustomization");
        var listed = Seq(kustomization["resources"], "resources").Cast<string>().Order().ToList();
        var present = Directory.EnumerateFiles(Path.Combine(DeployDir, "k8s"), "*.yaml").Select(f => Path.GetFileName(f))
            .Where(f => f != "kustomization.yaml").Order().ToList();
        Assert.Equal(present, listed);

        var deployment = One(docs, "Deployment");
        var podLabels = Map(At(deployment, "spec.template.metadata.labels"), "pod labels");
        AssertSelects(Map(At(deployment, "spec.selector.matchLabels"), "selector"), podLabels, "Deployment selector");
        Assert.Equal("mtactors", podLabels[KubernetesHostingOptions.ServiceIdLabel]);
        Assert.Equal("mtactors", podLabels[KubernetesHostingOptions.ClusterIdLabel]);

        var pod = Map(At(deployment, "spec.template.spec"), "pod spec");
        var container = Map(Assert.Single(Seq(pod["containers"], "containers")), "container");
        var ports = Seq(container["ports"], "ports").Select(p => Str(At(p, "name"), "port name")).ToHashSet();
        var env = Seq(container["env"], "env").Select(e => Map(e, "env item")).ToDictionary(e => Str(e["name"], "env name"));

        // UseKubernetesHosting's inputs, and the switch that turns it on.
        Assert.Equal("true", env["MtActors__Kubernetes__Enabled"]["value"]);
        foreach (var v in (string[])[KubernetesHostingOptions.PodNameEnvironmentVariable, KubernetesHostingOptions.PodNamespaceEnvironmentVariable,
                     KubernetesHostingOptions.PodIPEnvironmentVariable, KubernetesHostingOptions.ServiceIdEnvironmentVariable,
                     KubernetesHostingOptions.ClusterIdEnvironmentVariable])
        {
            Assert.True(env.ContainsKey(v), $"the silo container needs {v}");
        }

        Assert.Equal($"metadata.labels['{KubernetesHostingOptions.ServiceIdLabel}']", At(env[KubernetesHostingOptions.ServiceIdEnvironmentVariable], "valueFrom.fieldRef.fieldPath"));
        Assert.Equal($"metadata.labels['{KubernetesHostingOptions.ClusterIdLabel}']", At(env[KubernetesHostingOptions.ClusterIdEnvironmentVariable], "valueFrom.fieldRef.fieldPath"));
        Assert.Equal(podLabels[KubernetesHostingOptions.ServiceIdLabel], env["MtActors__ServiceId"]["value"]);
        Assert.Equal(podLabels[KubernetesHostingOptions.ClusterIdLabel], env["MtActors__ClusterId"]["value"]);
        Assert.Equal("$(POD_IP)", env["MtActors__AdvertisedIP"]["value"]);
        Assert.Equal("0.0.0.0", env["MtActors__Http__Address"]["value"]);

        // The MTProto endpoint: on the container port the Service targets, and one key for every pod, from the Secret.
        Assert.Equal("0.0.0.0", env["MtActors__MtProto__Address"]["value"]);
        var mtprotoPort = Assert.Single(Seq(container["ports"], "ports"), p => Str(At(p, "name"), "port name") == "mtproto");
        Assert.Equal(Str(At(mtprotoPort, "containerPort"), "containerPort"), env["MtActors__MtProto__Port"]["value"]);
        var keyFile = Str(env["MtActors__MtProto__RsaKeyFiles__0"]["value"], "RSA key file");
        var keyMount = Assert.Single(Seq(container["volumeMounts"], "volumeMounts"), m => keyFile.StartsWith(Str(At(m, "mountPath"), "mountPath") + "/", StringComparison.Ordinal));
        var keyVolume = Assert.Single(Seq(pod["volumes"], "volumes"), v => Equals(At(v, "name"), At(keyMount, "name")));
        var keyItem = Assert.Single(Seq(At(keyVolume, "secret.items"), "items"));
        Assert.Equal(keyFile, Str(At(keyMount, "mountPath"), "mountPath") + "/" + Str(At(keyItem, "path"), "path"));

        // Probes on the real health endpoints, on a declared port.
        Assert.Equal(ObservabilityExtensions.LivePath, At(container, "livenessProbe.httpGet.path"));
        Assert.Equal(ObservabilityExtensions.ReadyPath, At(container, "readinessProbe.httpGet.path"));
        foreach (var probe in (string[])["livenessProbe", "readinessProbe", "startupProbe"])
        {
            Assert.Contains(Str(At(container, $"{probe}.httpGet.port"), probe), ports);
        }

        // The graceful stop fits in the pod's grace period.
        Assert.True(int.Parse(Str(pod["terminationGracePeriodSeconds"], "grace")) > int.Parse(Str(env["MtActors__ShutdownTimeoutSeconds"]["value"], "shutdown")));

        // Secrets referenced exist.
        var secret = One(docs, "Secret");
        var secretKeys = Map(secret["stringData"], "stringData").Keys.ToHashSet();
        Assert.Equal(At(secret, "metadata.name"), At(keyVolume, "secret.secretName"));
        Assert.Contains(Str(At(keyItem, "key"), "secret item key"), secretKeys);
        foreach (var e in env.Values.Concat(JobEnv(docs)))
        {
            if (Yaml.TryAt(e, "valueFrom.secretKeyRef") is { } sref)
            {
                Assert.Equal(At(secret, "metadata.name"), At(sref, "name"));
                Assert.Contains(Str(At(sref, "key"), "secret key"), secretKeys);
            }
        }

        // RBAC: the pod's service account may get, list, watch and delete pods.
        var account = One(docs, "ServiceAccount");
        Assert.Equal(At(account, "metadata.name"), pod["serviceAccountName"]);
        var role = One(docs, "Role");
        var rule = Map(Assert.Single(Seq(role["rules"], "rules")), "rule");
        Assert.Equal([""], Seq(rule["apiGroups"], "apiGroups").Cast<string>());
        Assert.Equal(["pods"], Seq(rule["resources"], "resources").Cast<string>());
        Assert.Equal(["delete", "get", "list", "watch"], Seq(rule["verbs"], "verbs").Cast<string>().Order());
        var binding = One(docs, "RoleBinding");
        Assert.Equal(At(role, "metadata.name"), At(binding, "roleRef.name"));
        Assert.Equal("Role", At(binding, "roleRef.kind"));
        var subject = Map(Assert.Single(Seq(binding["subjects"], "subjects")), "subject");
        Assert.Equal(("ServiceAccount", At(account, "metadata.name")), (subject["kind"], subject["name"]));

        // The PDB and the Services select the silo pods; Services target declared ports.
        AssertSelects(Map(At(One(docs, "PodDisruptionBudget"), "spec.selector.matchLabels"), "pdb selector"), podLabels, "PodDisruptionBudget");
        var services = docs.Where(d => Str(d["kind"], "kind") == "Service").ToList();
        Assert.Contains(services, s => Seq(At(s, "spec.ports"), "ports").Any(p => Yaml.TryAt(p, "targetPort") as string == "mtproto"));
        foreach (var service in services)
        {
            AssertSelects(Map(At(service, "spec.selector"), "service selector"), podLabels, $"Service {At(service, "metadata.name")}");
            foreach (var p in Seq(At(service, "spec.ports"), "ports"))
            {
                Assert.Contains(Str(At(p, "targetPort"), "targetPort"), ports);
            }
        }

        // The migration job runs the silo's migrate command.
        var job = One(docs, "Job");
        var jobContainer = Map(Assert.Single(Seq(At(job, "spec.template.spec.containers"), "containers")), "job container");
        Assert.Equal(["migrate"], Seq(jobContainer["args"], "args").Cast<string>());
        Assert.Equal(container["image"], jobContainer["image"]);
    }

    private static IEnumerable<Dictionary<string, object?>> JobEnv(List<Dictionary<string, object?>> docs) =>
        Seq(At(Map(Assert.Single(Seq(At(One(docs, "Job"), "spec.template.spec.containers"), "containers")), "c"), "env"), "env")
            .Select(e => Map(e, "env"));

    private static void AssertSelects(Dictionary<string, object?> selector, Dictionary<string, object?> labels, string what)
    {
        Assert.NotEmpty(selector);
        foreach (var (k, v) in selector)
        {
            Assert.True(labels.TryGetValue(k, out var actual) && Equals(actual, v), $"{what}: label {k}={v} is not on the silo pods");
        }
    }

    [Fact]
    public void Every_environment_variable_in_deploy_is_a_setting_the_silo_reads()
    {
        var used = new List<(string File, string Name)>();
        var compose = Map(Assert.Single(MiniYaml.ParseFile(Path.Combine(DeployDir, "docker-compose.yml"))), "compose");
        foreach (var (name, service) in Map(compose["services"], "services"))
        {
            if (name == "postgres")
            {
                continue; // the postgres image's own variables
            }

            used.AddRange(Map(Map(service, name)["environment"], $"{name}.environment").Keys.Select(k => ("docker-compose.yml", k)));
        }

        foreach (var doc in K8sDocs())
        {
            var containers = Yaml.TryAt(doc, "spec.template.spec.containers") as List<object?> ?? [];
            foreach (var c in containers)
            {
                used.AddRange((Yaml.TryAt(c, "env") as List<object?> ?? []).Select(e => ("k8s", Str(At(e, "name"), "env name"))));
            }
        }

        foreach (var line in File.ReadLines(Path.Combine(DeployDir, "systemd", "mtactors.env")))
        {
            if (line.Length > 0 && line[0] != '#')
            {
                Assert.Contains('=', line);
                used.Add(("mtactors.env", line[..line.IndexOf('=')]));
            }
        }

        foreach (var line in File.ReadLines(Path.Combine(DeployDir, "systemd", "mtactors-silo.service")))
        {
            if (line.StartsWith("Environment=", StringComparison.Ordinal))
            {
                var assignment = line["Environment=".Length..];
                used.Add(("mtactors-silo.service", assignment[..assignment.IndexOf('=')]));
            }
        }

        foreach (Match m in DockerEnv().Matches(File.ReadAllText(Path.Combine(DeployDir, "Dockerfile"))))
        {
            used.Add(("Dockerfile", m.Groups[1].Value));
        }

        Assert.True(used.Count > 40, $"only {used.Count} variables found: the file readers are broken");
        var unknown = used.Where(u => !ConfigKeys.IsKnownVariable(u.Name)).Select(u => $"{u.File}: {u.Name}").ToList();
        Assert.True(unknown.Count == 0, "not settings of the silo: " + string.Join(", ", unknown));

        // And the check itself can fail.
        Assert.False(ConfigKeys.IsKnownVariable("MtActors__Http__Prot"));
        Assert.False(ConfigKeys.IsKnownVariable("MtActors__HttpApi__Tokens__admin__Secret"));
        Assert.True(ConfigKeys.IsKnownVariable("MtActors__HttpApi__Tokens__anyname__Token"));
    }

    [Fact]
    public void The_Dockerfile_builds_the_silo_project_from_paths_that_exist_and_exposes_the_MTProto_port()
    {
        var text = File.ReadAllText(Path.Combine(DeployDir, "Dockerfile"));
        foreach (Match m in CopyLine().Matches(text))
        {
            foreach (var source in m.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..^1])
            {
                Assert.True(File.Exists(Path.Combine(Root, source)) || Directory.Exists(Path.Combine(Root, source)),
                    $"Dockerfile copies {source}, which does not exist");
            }
        }

        Assert.Contains("dotnet publish src/Silo/MtActors.Silo.csproj", text);
        var assembly = typeof(MtActors.Silo.Hosting.SiloHost).Assembly.GetName().Name;
        Assert.Contains($"ENTRYPOINT [\"dotnet\", \"{assembly}.dll\"]", text);
        Assert.Contains("USER $APP_UID", text);

        // The MTProto port the image sets is one it exposes, and it listens on the container's addresses.
        var env = DockerEnv().Matches(text).ToDictionary(m => m.Groups[1].Value, m => text[(m.Index + m.Length)..].Split([' ', '\n', '\\'], 2)[0]);
        Assert.Equal("0.0.0.0", env["MtActors__MtProto__Address"]);
        var expose = Assert.Single(text.Split('\n'), l => l.StartsWith("EXPOSE ", StringComparison.Ordinal));
        Assert.Contains(env["MtActors__MtProto__Port"], expose.Split(' ')[1..]);
    }

    [Fact]
    public void The_systemd_unit_restarts_on_failure_reads_its_env_file_and_is_hardened()
    {
        var path = Path.Combine(DeployDir, "systemd", "mtactors-silo.service");
        var sections = new Dictionary<string, Dictionary<string, List<string>>>();
        Dictionary<string, List<string>>? current = null;
        foreach (var raw in File.ReadLines(path))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';')
            {
                continue;
            }

            if (line[0] == '[')
            {
                Assert.EndsWith("]", line);
                current = sections[line[1..^1]] = new Dictionary<string, List<string>>();
                continue;
            }

            Assert.NotNull(current);
            var eq = line.IndexOf('=');
            Assert.True(eq > 0, $"not key=value: {line}");
            var key = line[..eq];
            if (!current.TryGetValue(key, out var values))
            {
                current[key] = values = [];
            }

            values.Add(line[(eq + 1)..]);
        }

        Assert.Equal(["Install", "Service", "Unit"], sections.Keys.Order());
        var service = sections["Service"];
        Assert.Equal("on-failure", Assert.Single(service["Restart"]));
        Assert.Equal("/etc/mtactors/mtactors.env", Assert.Single(service["EnvironmentFile"]));
        Assert.StartsWith("/opt/mtactors/MtActors.Silo", Assert.Single(service["ExecStart"]), StringComparison.Ordinal);
        foreach (var hardening in (string[])["NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp", "CapabilityBoundingSet", "RestrictAddressFamilies"])
        {
            Assert.True(service.ContainsKey(hardening), $"missing {hardening}");
        }

        Assert.Equal("2", Assert.Single(service["RestartPreventExitStatus"]));
        Assert.Equal(MtActors.Silo.Hosting.SiloCommands.BadUsage.ToString(), service["RestartPreventExitStatus"][0]);
        Assert.Equal("multi-user.target", Assert.Single(sections["Install"]["WantedBy"]));

        // systemd's own checker where the machine has it: unknown keys and unparsable values are reported on stderr.
        if (File.Exists("/usr/bin/systemd-analyze"))
        {
            var dir = Directory.CreateTempSubdirectory("mtactors-unit-");
            try
            {
                var copy = Path.Combine(dir.FullName, "mtactors-silo.service");
                // The binary is not installed here: point ExecStart at one that exists, keep everything else.
                File.WriteAllLines(copy, File.ReadLines(path).Select(l => l.StartsWith("ExecStart=", StringComparison.Ordinal) ? "ExecStart=/bin/true" : l));
                var (exit, output) = Run("/usr/bin/systemd-analyze", "verify", copy);
                Assert.True(exit == 0 && output.Trim().Length == 0, $"systemd-analyze verify: exit {exit}: {output}");
            }
            finally
            {
                dir.Delete(recursive: true);
            }
        }
    }

    private static (int Exit, string Output) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish in 60 s");
        }

        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    [GeneratedRegex(@"\$\{[^}]*\}")]
    private static partial Regex Interpolation();

    [GeneratedRegex(@"^\s*(?:ENV\s+|\s+)([A-Za-z_][A-Za-z0-9_]*)=", RegexOptions.Multiline)]
    private static partial Regex DockerEnv();

    [GeneratedRegex(@"^COPY (?!--from)(.+)$", RegexOptions.Multiline)]
    private static partial Regex CopyLine();
}
