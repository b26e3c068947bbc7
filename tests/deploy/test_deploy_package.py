"""serverless.yml packaged offline by osls, as `osls deploy` would upload it, then checked.

Three packages a session, each into its own temp dir: the primary region (us-west-2), a second region
(eu-central-1), and a third region with the custom domain and a three-region replica list. Each template
is linted by cfn-lint and read back: the global table, the IAM roles, the API routes, the domain
resources, the outputs, and the code zip.
"""

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.deploy

ROOT = Path(__file__).resolve().parents[2]
OSLS = ROOT / "node_modules" / ".bin" / "osls"
SERVICE = "serverless-keyvalue"
STAGE = "dev"
TABLE = "keyvalues"
PRIMARY = "us-west-2"
SECONDARY = "eu-central-1"
DOMAIN_REGION = "ap-northeast-1"
DOMAIN = "keyvalue.example.com"
CERTIFICATE_ARN = f"arn:aws:acm:{DOMAIN_REGION}:123456789012:certificate/0b1c2d3e-1111-2222-3333-444455556666"
DEFAULT_REGIONS = [PRIMARY, SECONDARY]
DASHBOARD_ORIGIN = "https://dashboard.example.com"
DOMAIN_PARAMS = [
    f"regions={PRIMARY},{SECONDARY},{DOMAIN_REGION}",
    f"domain={DOMAIN}",
    "hostedZoneName=example.com",
    f"certificateArn={CERTIFICATE_ARN}",
    f"corsAllowOrigin={DASHBOARD_ORIGIN}",
]

# The one DynamoDB action each function calls, and the function's handler module.
FUNCTIONS = {
    "getKey": ("dynamodb:GetItem", "backend/handlers/get_key.main"),
    "setKey": ("dynamodb:PutItem", "backend/handlers/set_key.main"),
    "deleteKey": ("dynamodb:DeleteItem", "backend/handlers/delete_key.main"),
    "health": ("dynamodb:DescribeTable", "backend/handlers/health.main"),
}
DOMAIN_TYPES = {
    "AWS::ApiGateway::DomainName",
    "AWS::ApiGateway::BasePathMapping",
    "AWS::Route53::HealthCheck",
    "AWS::Route53::RecordSet",
}
# Copied into the scratch service dir: the service definition, and the folders package.patterns must
# sort into "ships" (backend core, handlers) and "stays out" (local cloud, tools, dashboard, tests, docs,
# bench, __pycache__ included).
COPIED = [
    "serverless.yml", "package.json", "package-lock.json", ".npmrc", "deploy",
    "backend", "dashboard", "tests", "docs", "bench",
]  # fmt: skip

if not OSLS.exists():
    pytest.skip(
        "node_modules/.bin/osls is missing: run `npm ci` (make install does it) to package serverless.yml",
        allow_module_level=True,
    )


class Packaged:
    """One `osls package` output: the update-stack template and the code zip."""

    def __init__(self, region: str, directory: Path, output: str):
        self.region = region
        self.directory = directory
        self.output = output
        self.template_path = directory / "cloudformation-template-update-stack.json"
        self.template = json.loads(self.template_path.read_text())
        self.resources = self.template["Resources"]
        self.zip_path = directory / f"{SERVICE}.zip"

    @property
    def cors_origin(self) -> str:
        return DASHBOARD_ORIGIN if self.region == DOMAIN_REGION else "*"

    def of_type(self, resource_type: str) -> dict:
        return {name: r for name, r in self.resources.items() if r["Type"] == resource_type}

    def created(self, logical_id: str) -> bool:
        """Whether CloudFormation creates the resource when this template is deployed in its region."""
        condition = self.resources[logical_id].get("Condition")
        if condition is None:
            return True
        return evaluate_condition({"Condition": condition}, self.template.get("Conditions", {}), self.region)


def evaluate_condition(expression, conditions: dict, region: str):
    """Evaluates the condition functions this template may use, with AWS::Region bound to `region`."""
    if isinstance(expression, (str, bool)):
        return expression
    ((function, argument),) = expression.items()
    if function == "Ref":
        assert argument == "AWS::Region", f"unexpected Ref in a condition: {argument}"
        return region
    if function == "Condition":
        return evaluate_condition(conditions[argument], conditions, region)
    values = [evaluate_condition(item, conditions, region) for item in argument]
    if function == "Fn::Equals":
        return values[0] == values[1]
    if function == "Fn::Not":
        return not values[0]
    if function == "Fn::And":
        return all(values)
    if function == "Fn::Or":
        return any(values)
    raise AssertionError(f"unexpected condition function {function}")


def osls_env() -> dict:
    """No real credentials or profile: packaging must work offline with fake ones."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="AKIAFAKEFAKEFAKEFAKE",
        AWS_SECRET_ACCESS_KEY="fake-secret-for-offline-packaging",
        SLS_TELEMETRY_DISABLED="1",
        SLS_NOTIFICATIONS_MODE="off",
        FORCE_COLOR="0",
    )
    return env


def run_osls(service_dir: Path, region: str, params: list[str], out_dir: Path | None = None):
    command = [str(OSLS), "package", "--region", region]
    for param in params:
        command += ["--param", param]
    if out_dir is not None:
        command += ["--package", str(out_dir)]
    return subprocess.run(
        command, cwd=service_dir, env=osls_env(), capture_output=True, text=True, timeout=120
    )


def copy_if_still_there(source, destination):
    """Others' test runs create and delete files (caches, results) in the tree while it is copied."""
    try:
        return shutil.copy2(source, destination)
    except FileNotFoundError:
        return destination


@pytest.fixture(scope="module")
def service_dir(tmp_path_factory):
    """A scratch copy of the checkout: osls stages the zip in <service>/.serverless/, so packaging a copy
    keeps the work tree clean and cannot collide with someone running osls in it at the same time."""
    directory = tmp_path_factory.mktemp("service") / "repo"
    directory.mkdir()
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, directory / name, symlinks=True, copy_function=copy_if_still_there)
        elif source.exists():
            shutil.copy2(source, directory / name)
    (directory / "node_modules").symlink_to(ROOT / "node_modules", target_is_directory=True)
    return directory


@pytest.fixture(scope="module")
def package(service_dir, tmp_path_factory):
    cache = {}

    def package_for(region: str, params: tuple[str, ...] = ()) -> Packaged:
        if (region, params) not in cache:
            out_dir = tmp_path_factory.mktemp(f"package-{region}")
            result = run_osls(service_dir, region, list(params), out_dir)
            assert result.returncode == 0, f"osls package failed:\n{result.stdout}\n{result.stderr}"
            cache[(region, params)] = Packaged(region, out_dir, result.stdout + result.stderr)
        return cache[(region, params)]

    return package_for


@pytest.fixture(scope="module")
def primary(package):
    return package(PRIMARY)


@pytest.fixture(scope="module")
def secondary(package):
    return package(SECONDARY)


@pytest.fixture(scope="module")
def with_domain(package):
    return package(DOMAIN_REGION, tuple(DOMAIN_PARAMS))


@pytest.fixture(scope="module")
def every_package(primary, secondary, with_domain):
    return [primary, secondary, with_domain]


def role_of(packaged: Packaged, function_key: str) -> tuple[str, dict]:
    function = packaged.resources[function_key[0].upper() + function_key[1:] + "LambdaFunction"]
    role = function["Properties"]["Role"]
    match = re.fullmatch(r"\$\{(\w+)\.Arn\}", role.get("Fn::Sub", ""))
    assert match, f"{function_key} must run as a role defined in the template, got {role}"
    return match.group(1), packaged.resources[match.group(1)]


def statements(role: dict) -> list[dict]:
    return [s for policy in role["Properties"]["Policies"] for s in policy["PolicyDocument"]["Statement"]]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


# --------------------------------------------------------------------------------------------- lint


def test_cfn_lint_passes_every_template(every_package):
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    assert cfn_lint.exists(), "cfn-lint is part of requirements-dev.txt"
    result = subprocess.run(
        [str(cfn_lint), *[str(p.template_path) for p in every_package]],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


# ------------------------------------------------------------------------------------- global table


def test_global_table_is_created_only_by_the_primary_stack(every_package):
    for packaged in every_package:
        tables = packaged.of_type("AWS::DynamoDB::GlobalTable")
        assert list(tables) == ["KeyValuesGlobalTable"]
        assert packaged.created("KeyValuesGlobalTable") is (packaged.region == PRIMARY), packaged.region
        # Never a plain regional table beside it: every stack uses the global table's local replica.
        assert not packaged.of_type("AWS::DynamoDB::Table")


def test_global_table_definition(primary):
    table = primary.resources["KeyValuesGlobalTable"]
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"
    properties = table["Properties"]
    assert properties["TableName"] == TABLE
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    # The default is eventual consistency (MREC), named by no property, as before MRSC existed (test_deploy_mrsc.py).
    assert "MultiRegionConsistency" not in properties and "GlobalTableWitnesses" not in properties
    assert "TimeToLiveSpecification" not in properties
    assert properties["KeySchema"] == [{"AttributeName": "key", "KeyType": "HASH"}]
    assert properties["AttributeDefinitions"] == [{"AttributeName": "key", "AttributeType": "S"}]
    assert [replica["Region"] for replica in properties["Replicas"]] == DEFAULT_REGIONS
    for replica in properties["Replicas"]:
        assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_replica_regions_come_from_the_regions_param(with_domain):
    replicas = with_domain.resources["KeyValuesGlobalTable"]["Properties"]["Replicas"]
    assert [replica["Region"] for replica in replicas] == [PRIMARY, SECONDARY, DOMAIN_REGION]
    assert not with_domain.created("KeyValuesGlobalTable")  # ap-northeast-1 is not the primary


def test_every_stack_names_the_table_and_the_cors_origin(every_package):
    for packaged in every_package:
        assert packaged.template["Outputs"]["KeyTableName"]["Value"] == TABLE
        for function_key in FUNCTIONS:
            name = function_key[0].upper() + function_key[1:] + "LambdaFunction"
            variables = packaged.resources[name]["Properties"]["Environment"]["Variables"]
            assert variables == {"KEY_TABLE": TABLE, "CORS_ALLOW_ORIGIN": packaged.cors_origin}


# ---------------------------------------------------------------------------------------------- IAM


def test_each_function_has_its_own_role_with_exactly_its_action(every_package):
    for packaged in every_package:
        roles = set()
        for function_key, (action, _) in FUNCTIONS.items():
            role_id, role = role_of(packaged, function_key)
            roles.add(role_id)
            assert role["Type"] == "AWS::IAM::Role"
            assert "ManagedPolicyArns" not in role["Properties"]
            trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
            assert trust == [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ]
            by_service = {}
            for statement in statements(role):
                assert statement["Effect"] == "Allow"
                for granted in as_list(statement["Action"]):
                    by_service.setdefault(granted.split(":")[0], []).append((granted, statement["Resource"]))
            assert sorted(by_service) == ["dynamodb", "logs"], function_key
            table_arn = f"arn:${{AWS::Partition}}:dynamodb:${{AWS::Region}}:${{AWS::AccountId}}:table/{TABLE}"
            assert by_service["dynamodb"] == [(action, {"Fn::Sub": table_arn})], function_key
            log_group = f"/aws/lambda/{SERVICE}-{STAGE}-{function_key}"
            log_arn = (
                f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{log_group}:*"
            )
            assert sorted(by_service["logs"]) == [
                ("logs:CreateLogStream", {"Fn::Sub": log_arn}),
                ("logs:PutLogEvents", {"Fn::Sub": log_arn}),
            ]
            # The log group the role may write to is the one the stack creates for this function.
            log_groups = [
                g["Properties"]["LogGroupName"] for g in packaged.of_type("AWS::Logs::LogGroup").values()
            ]
            assert log_group in log_groups
        assert len(roles) == len(FUNCTIONS), "one role per function"
        # No shared execution role or extra policy that could widen any function's rights.
        assert set(packaged.of_type("AWS::IAM::Role")) == roles
        assert not packaged.of_type("AWS::IAM::Policy") and not packaged.of_type("AWS::IAM::ManagedPolicy")


def test_no_wildcard_action_or_resource(every_package):
    for packaged in every_package:
        for role_id in packaged.of_type("AWS::IAM::Role"):
            for statement in statements(packaged.resources[role_id]):
                for granted in as_list(statement["Action"]):
                    assert "*" not in granted, (role_id, granted)
                for resource in as_list(statement["Resource"]):
                    arn = resource["Fn::Sub"] if isinstance(resource, dict) else resource
                    assert arn != "*"
                    # Lambda names its log streams itself, so the one wildcard allowed is the stream name
                    # at the very end of a log group ARN; the table ARN has none.
                    scope = arn.removesuffix(":*") if ":logs:" in arn else arn
                    assert "*" not in scope, (role_id, arn)
                    assert "${aws:accountId}" not in arn  # resolves through STS, so not offline


def test_each_role_allows_exactly_what_its_handler_calls(primary, monkeypatch):
    """Runs every handler under moto, records the DynamoDB operations it makes, and compares them with
    the DynamoDB actions its role grants: a handler change that needs another action fails here, not
    with AccessDenied in production."""
    import boto3
    from apigw import proxy_event
    from moto import mock_aws

    from backend.handlers import _runtime, delete_key, get_key, health, set_key
    from backend.store import table_definition

    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE", "CORS_ALLOW_ORIGIN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {
        "KEY_TABLE": TABLE,
        "AWS_REGION": PRIMARY,
        "AWS_DEFAULT_REGION": PRIMARY,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    requests = {
        "setKey": (set_key, proxy_event("POST", "testkey", '{"value": "Just testing"}')),
        "getKey": (get_key, proxy_event("GET", "testkey")),
        "deleteKey": (delete_key, proxy_event("DELETE", "testkey")),
        "health": (health, proxy_event("GET", None, resource="/_health")),
    }
    calls = []
    with mock_aws():
        boto3.client("dynamodb", region_name=PRIMARY).create_table(**table_definition(TABLE))
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
        boto3.setup_default_session()
        # Clients copy the session's event hooks when they are created: the handlers' client is built
        # after this, by the first request once the cached service is dropped.
        boto3.DEFAULT_SESSION.events.register(
            "before-call.dynamodb", lambda model, **_: calls.append(model.name)
        )
        _runtime.reset()
        try:
            for function_key, (module, event) in requests.items():
                calls.clear()
                response = module.main(event, None)
                assert response["statusCode"] == 200, (function_key, response)
                granted = {
                    action
                    for statement in statements(role_of(primary, function_key)[1])
                    for action in as_list(statement["Action"])
                    if action.startswith("dynamodb:")
                }
                assert {f"dynamodb:{operation}" for operation in calls} == granted, function_key
        finally:
            _runtime.reset()


# ---------------------------------------------------------------------------------------- functions


def test_functions_run_the_handlers_on_python_3_13(every_package):
    for packaged in every_package:
        for function_key, (_, handler) in FUNCTIONS.items():
            properties = packaged.resources[function_key[0].upper() + function_key[1:] + "LambdaFunction"][
                "Properties"
            ]
            assert properties["Handler"] == handler
            assert properties["Runtime"] == "python3.13"
            assert properties["FunctionName"] == f"{SERVICE}-{STAGE}-{function_key}"
            module_path, _, function_name = handler.rpartition(".")
            source = (ROOT / f"{module_path}.py").read_text()
            assert any(
                isinstance(node, ast.FunctionDef) and node.name == function_name
                for node in ast.parse(source).body
            ), f"{module_path}.py defines no {function_name}()"


def test_http_routes_are_regional_with_cors_preflight(every_package):
    expected = {
        ("/{key}", "GET"): "GetKeyLambdaFunction",
        ("/{key}", "POST"): "SetKeyLambdaFunction",
        ("/{key}", "DELETE"): "DeleteKeyLambdaFunction",
        ("/_health", "GET"): "HealthLambdaFunction",
    }
    for packaged in every_package:
        api = packaged.resources["ApiGatewayRestApi"]["Properties"]
        assert api["EndpointConfiguration"]["Types"] == ["REGIONAL"]
        paths = {
            logical_id: "/" + resource["Properties"]["PathPart"]
            for logical_id, resource in packaged.of_type("AWS::ApiGateway::Resource").items()
        }
        routes, preflights = {}, set()
        for method in packaged.of_type("AWS::ApiGateway::Method").values():
            properties = method["Properties"]
            path = paths[properties["ResourceId"]["Ref"]]
            if properties["HttpMethod"] == "OPTIONS":
                preflights.add(path)
                (answer,) = properties["Integration"]["IntegrationResponses"]
                assert (
                    answer["ResponseParameters"]["method.response.header.Access-Control-Allow-Origin"]
                    == f"'{packaged.cors_origin}'"
                )
                continue
            integration = properties["Integration"]
            assert integration["Type"] == "AWS_PROXY"
            (target,) = [
                part
                for part in integration["Uri"]["Fn::Join"][1]
                if isinstance(part, dict) and "Fn::GetAtt" in part
            ]
            routes[(path, properties["HttpMethod"])] = target["Fn::GetAtt"][0]
            # With proxy integration the handler's own headers (Access-Control-Allow-Origin, Server-Timing)
            # reach the client as they are; the template adds none.
            assert properties["MethodResponses"] == []
        assert routes == expected
        assert preflights == {"/{key}", "/_health"}  # cors: the preflight routes API Gateway answers itself
        endpoint = packaged.template["Outputs"]["ServiceEndpoint"]["Value"]["Fn::Join"][1]
        assert endpoint[-1] == f"/{STAGE}"


# ----------------------------------------------------------------------------------- custom domain


def test_domain_resources_only_when_the_domain_param_is_set(primary, secondary, with_domain):
    for packaged in (primary, secondary):
        assert not [r for r in packaged.resources.values() if r["Type"] in DOMAIN_TYPES]
        assert not {"RegionalDomainName", "CustomDomainUrl"} & set(packaged.template["Outputs"])
    counts = {t: len(with_domain.of_type(t)) for t in DOMAIN_TYPES}
    assert counts == dict.fromkeys(DOMAIN_TYPES, 1)
    assert with_domain.template["Outputs"]["RegionalDomainName"]["Value"] == {
        "Fn::GetAtt": ["ApiRegionalDomainName", "RegionalDomainName"]
    }
    # The dashboard's AWS target reads this output (dashboard/measure/aws.py) to measure through the shared name.
    assert with_domain.template["Outputs"]["CustomDomainUrl"]["Value"] == f"https://{DOMAIN}"


def test_regional_domain_and_base_path_mapping(with_domain):
    ((domain_id, domain),) = with_domain.of_type("AWS::ApiGateway::DomainName").items()
    assert domain["Properties"] == {
        "DomainName": DOMAIN,
        "EndpointConfiguration": {"Types": ["REGIONAL"]},
        "RegionalCertificateArn": CERTIFICATE_ARN,
        "SecurityPolicy": "TLS_1_2",
    }
    ((_, mapping),) = with_domain.of_type("AWS::ApiGateway::BasePathMapping").items()
    assert mapping["Properties"] == {
        "DomainName": {"Ref": domain_id},
        "RestApiId": {"Ref": "ApiGatewayRestApi"},
        "Stage": STAGE,
    }
    # The stage exists only once the deployment has created it.
    deployments = set(with_domain.of_type("AWS::ApiGateway::Deployment"))
    assert len(deployments) == 1 and set(mapping["DependsOn"]) == deployments


def test_a_health_check_is_behind_every_latency_record(with_domain):
    records = with_domain.of_type("AWS::Route53::RecordSet")
    checks = with_domain.of_type("AWS::Route53::HealthCheck")
    assert records
    for record in records.values():
        properties = record["Properties"]
        assert properties["Name"] == f"{DOMAIN}."
        assert properties["HostedZoneName"] == "example.com."
        assert properties["Region"] == properties["SetIdentifier"] == DOMAIN_REGION
        assert properties["Type"] == "A"
        assert properties["AliasTarget"] == {
            "DNSName": {"Fn::GetAtt": ["ApiRegionalDomainName", "RegionalDomainName"]},
            "HostedZoneId": {"Fn::GetAtt": ["ApiRegionalDomainName", "RegionalHostedZoneId"]},
            "EvaluateTargetHealth": True,
        }
        check_id = properties["HealthCheckId"]["Ref"]
        config = checks[check_id]["Properties"]["HealthCheckConfig"]
        assert config == {
            "Type": "HTTPS",
            # The region's own execute-api host, so a failure is this region's, not the shared name's.
            "FullyQualifiedDomainName": {
                "Fn::Sub": "${ApiGatewayRestApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
            },
            "Port": 443,
            "EnableSNI": True,
            "ResourcePath": f"/{STAGE}/_health",
            "RequestInterval": 30,
            "FailureThreshold": 3,
        }


# A certificate in the region deployed by the parameter-mistake cases below.
CERT_IN = f"arn:aws:acm:{SECONDARY}:123456789012:certificate/0b1c2d3e-1111-2222-3333-444455556666"


@pytest.mark.parametrize(
    "region, params, message",
    [
        (
            SECONDARY,
            ["primaryRegion=eu-west-1"],
            "--param primaryRegion=eu-west-1 must be one of --param regions=",
        ),
        ("ap-south-1", [], "the deploying region ap-south-1 has no replica: add it to --param regions"),
        (SECONDARY, [f"regions={PRIMARY},{SECONDARY},{PRIMARY}"], "--param regions lists a region twice"),
        (SECONDARY, ["domain=not a domain"], "--param domain=not a domain is not a valid DNS name"),
        (
            SECONDARY,
            [f"domain={DOMAIN}", "hostedZoneName=example.com", f"certificateArn={CERTIFICATE_ARN}"],
            f"a regional API needs its certificate in {SECONDARY}; --param certificateArn is in {DOMAIN_REGION}",
        ),
        (
            SECONDARY,
            [f"domain={DOMAIN}", f"certificateArn={CERT_IN}"],
            "--param domain needs --param hostedZoneName=",
        ),
        (
            SECONDARY,
            [f"domain={DOMAIN}", f"certificateArn={CERT_IN}", "hostedZoneName=example.org"],
            f"--param domain={DOMAIN} is not inside zone example.org",
        ),
    ],
)
def test_each_parameter_mistake_is_named(service_dir, region, params, message):
    result = run_osls(service_dir, region, params)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert message in output
    assert "    at " not in output


def test_a_function_without_a_listed_action_fails_at_package_time(service_dir, tmp_path):
    """A new function in serverless.yml needs its one action in deploy/resources.js, or no role exists."""
    for name in ("serverless.yml", "package.json", "deploy", "backend"):
        source = service_dir / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, tmp_path / name)
    (tmp_path / "node_modules").symlink_to(ROOT / "node_modules", target_is_directory=True)
    config = tmp_path / "serverless.yml"
    config.write_text(
        config.read_text().replace(
            "functions:\n", "functions:\n  listKeys:\n    handler: backend/handlers/get_key.main\n", 1
        )
    )

    result = run_osls(tmp_path, PRIMARY, [])

    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert (
        "functions (deleteKey, getKey, health, listKeys, setKey) and FUNCTION_ACTIONS "
        "(deleteKey, getKey, health, setKey) must name the same functions" in output
    )


def test_bad_params_fail_at_package_time_with_one_clear_line(service_dir):
    result = run_osls(
        service_dir,
        SECONDARY,
        ["regions=us-west-2,eu-centrl-1", f"domain={DOMAIN}", "hostedZoneName=example.com"],
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert '"eu-centrl-1" in --param regions is not an AWS region' in output
    assert "--param domain needs --param certificateArn=" in output
    assert "    at " not in output  # no JavaScript stack trace for a configuration mistake


# ------------------------------------------------------------------------------------------ the zip


def zipped_names(packaged: Packaged) -> list[str]:
    with zipfile.ZipFile(packaged.zip_path) as archive:
        return sorted(info.filename for info in archive.infolist() if not info.is_dir())


def test_zip_holds_only_the_runtime_code(every_package):
    expected = sorted(
        str(path.relative_to(ROOT))
        for path in [*(ROOT / "backend").glob("*.py"), *(ROOT / "backend" / "handlers").rglob("*.py")]
        if "__pycache__" not in path.parts
    )
    assert "backend/__init__.py" in expected
    for packaged in every_package:
        names = zipped_names(packaged)
        assert names == expected, packaged.region
        for handler_module in ("get_key", "set_key", "delete_key", "health"):
            assert f"backend/handlers/{handler_module}.py" in names
        assert not [
            n for n in names if n.startswith(("backend/local/", "backend/tools/", "dashboard/", "tests/"))
        ]
        assert not [n for n in names if n.endswith(".pyc") or "node_modules" in n or n.startswith(".")]


def test_zipped_code_imports_only_the_standard_library_and_boto3(primary):
    allowed = set(sys.stdlib_module_names) | {"boto3", "botocore", "backend", "__future__"}
    with zipfile.ZipFile(primary.zip_path) as archive:
        for name in archive.namelist():
            tree = ast.parse(archive.read(name), filename=name)
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    roots = [alias.name.split(".")[0] for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    roots = [node.module.split(".")[0]]
                else:
                    continue
                assert set(roots) <= allowed, f"{name} imports {roots}: the Lambda runtime ships only boto3"


def test_handlers_import_from_the_unpacked_zip_alone(primary, tmp_path):
    with zipfile.ZipFile(primary.zip_path) as archive:
        archive.extractall(tmp_path)
    probe = (
        "import importlib\n"
        "for name in ('get_key', 'set_key', 'delete_key', 'health'):\n"
        "    module = importlib.import_module('backend.handlers.' + name)\n"
        f"    assert module.__file__.startswith({str(tmp_path)!r}), module.__file__\n"
        "    assert callable(module.main)\n"
        "try:\n"
        "    import backend.local\n"
        "except ModuleNotFoundError:\n"
        "    print('ok')\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "PYTHONPATH"}
    env.update(KEY_TABLE=TABLE, AWS_REGION=PRIMARY, AWS_DEFAULT_REGION=PRIMARY, PYTHONPATH=str(tmp_path))
    # -S: no site-packages, so the project's own editable install (pip install -e .) cannot supply backend.local;
    # only the unpacked zip is importable, as in the Lambda runtime.
    result = subprocess.run(
        [sys.executable, "-S", "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
