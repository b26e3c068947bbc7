"""Deploy policy of this project as cfn-lint rules (E9101-E9106), for the templates `osls package` writes.

    cfn-lint --append-rules deploy/policy -- .serverless/cloudformation-template-update-stack.json

Each rule states one promise of the deployment (docs/DEPLOY.md) and fails the template that breaks it. The one
exception any rule makes is written next to it, with its reason; there are no other suppressions.
"""

from __future__ import annotations

import re

from cfnlint.rules import CloudFormationLintRule, RuleMatch

SOURCE = "https://github.com/aws-cloudformation/cfn-lint/blob/main/docs/getting_started/rules.md"
# "Newer than TLS 1.2" names API Gateway uses: TLS_1_2 and the enhanced policies (SecurityPolicy_TLS13_…,
# SecurityPolicy_TLS12_…). TLS_1_0 is the only older value.
MODERN_TLS = re.compile(r"^(TLS_1_2|SecurityPolicy_TLS1[23]_.+)$")


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _text_of(value):
    """The literal text of a string, a Fn::Sub, or the joined literal parts of a Fn::Join; None otherwise."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Fn::Sub":
            return argument if isinstance(argument, str) else _text_of(argument[0])
        if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
            parts = [_text_of(part) for part in argument[1]]
            return argument[0].join(part if part is not None else "X" for part in parts)
    return None  # Ref / Fn::GetAtt: a single resource's ARN, never a wildcard


def _statements(resource: dict):
    """(path, statement) of every policy statement a role or a policy resource holds."""
    properties = resource.get("Properties", {})
    documents = []
    if "PolicyDocument" in properties:
        documents.append((["Properties", "PolicyDocument"], properties["PolicyDocument"]))
    for index, policy in enumerate(properties.get("Policies", []) or []):
        documents.append(
            (["Properties", "Policies", index, "PolicyDocument"], policy.get("PolicyDocument", {}))
        )
    for path, document in documents:
        for index, statement in enumerate(_as_list(document.get("Statement", []))):
            yield [*path, "Statement", index], statement


def _referenced_resource(value):
    """The logical id an ARN property points at: Fn::GetAtt [X, Arn], Fn::Sub "${X.Arn}" or Ref X."""
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Fn::GetAtt":
            return (argument if isinstance(argument, list) else argument.split("."))[0]
        if function == "Ref":
            return argument
        if function == "Fn::Sub" and isinstance(argument, str):
            match = re.fullmatch(r"\$\{(\w+)\.Arn\}", argument)
            return match.group(1) if match else None
    return None


class IamNoWildcards(CloudFormationLintRule):
    id = "E9101"
    shortdesc = "IAM statements name their actions and resources"
    description = (
        "No '*' in an IAM action or resource, and no NotAction / NotResource (grants by exclusion). "
        "Exception: a log group ARN may end in ':*', because Lambda names its log streams at run time."
    )
    source_url = SOURCE
    tags = ["iam", "policy"]
    TYPES = ["AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"]

    def match(self, cfn):
        matches = []
        for name, resource in cfn.get_resources(self.TYPES).items():
            for path, statement in _statements(resource):
                where = ["Resources", name, *path]
                for inverse in ("NotAction", "NotResource"):
                    if inverse in statement:
                        matches.append(RuleMatch([*where, inverse], f"{name}: {inverse} grants by exclusion"))
                for action in _as_list(statement.get("Action", [])):
                    if isinstance(action, str) and "*" in action:
                        matches.append(RuleMatch([*where, "Action"], f"{name}: wildcard action {action}"))
                for resource_arn in _as_list(statement.get("Resource", [])):
                    text = _text_of(resource_arn)
                    if text is None:
                        continue
                    # The documented exception: "…:log-group:<name>:*" (the streams of one named group).
                    scope = text.removesuffix(":*") if re.search(r":log-group:[^*:]+:\*$", text) else text
                    if "*" in scope:
                        matches.append(RuleMatch([*where, "Resource"], f"{name}: wildcard resource {text}"))
        return matches


class OneRolePerFunction(CloudFormationLintRule):
    id = "E9102"
    shortdesc = "Every Lambda function has a role of its own, defined in the stack"
    description = (
        "A function's Role points at an AWS::IAM::Role of this template that no other function uses, "
        "without managed policies (their rights are not in the template)."
    )
    source_url = SOURCE
    tags = ["iam", "lambda"]

    def match(self, cfn):
        matches, owners = [], {}
        roles = cfn.get_resources(["AWS::IAM::Role"])
        for name, function in cfn.get_resources(["AWS::Lambda::Function"]).items():
            role = _referenced_resource(function.get("Properties", {}).get("Role"))
            path = ["Resources", name, "Properties", "Role"]
            if role not in roles:
                matches.append(RuleMatch(path, f"{name}: its Role is not a role defined in this template"))
                continue
            if role in owners:
                matches.append(RuleMatch(path, f"{name} shares the role {role} with {owners[role]}"))
            owners.setdefault(role, name)
        for name, role in roles.items():
            if role.get("Properties", {}).get("ManagedPolicyArns"):
                path = ["Resources", name, "Properties", "ManagedPolicyArns"]
                matches.append(
                    RuleMatch(path, f"{name}: managed policies grant rights the template doesn't show")
                )
        return matches


class TableRetainedWithRecovery(CloudFormationLintRule):
    id = "E9103"
    shortdesc = "The data survives the stack: tables are retained and have point-in-time recovery"
    description = (
        "DynamoDB tables carry DeletionPolicy and UpdateReplacePolicy Retain, and point-in-time recovery "
        "on the table (AWS::DynamoDB::Table) or on every replica (AWS::DynamoDB::GlobalTable)."
    )
    source_url = SOURCE
    tags = ["dynamodb", "data"]

    def match(self, cfn):
        matches = []
        for name, table in cfn.get_resources(["AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"]).items():
            for policy in ("DeletionPolicy", "UpdateReplacePolicy"):
                if table.get(policy) != "Retain":
                    matches.append(RuleMatch(["Resources", name], f"{name}: {policy} must be Retain"))
            properties = table.get("Properties", {})
            if table["Type"] == "AWS::DynamoDB::GlobalTable":
                holders = [
                    (["Properties", "Replicas", index], replica)
                    for index, replica in enumerate(properties.get("Replicas", []))
                ]
            else:
                holders = [(["Properties"], properties)]
            for path, holder in holders:
                recovery = holder.get("PointInTimeRecoverySpecification", {})
                if recovery.get("PointInTimeRecoveryEnabled") is not True:
                    where = holder.get("Region", name)
                    matches.append(
                        RuleMatch(["Resources", name, *path], f"{name}: no point-in-time recovery ({where})")
                    )
        return matches


class DomainTls12OrNewer(CloudFormationLintRule):
    id = "E9104"
    shortdesc = "Custom domains accept TLS 1.2 or newer only"
    description = "API Gateway domain names set SecurityPolicy to TLS_1_2 or an enhanced TLS 1.2/1.3 policy."
    source_url = SOURCE
    tags = ["apigateway", "tls"]

    def match(self, cfn):
        policies = []  # (name, path, SecurityPolicy): REST domains have one, HTTP API domains one per configuration
        for name, domain in cfn.get_resources(["AWS::ApiGateway::DomainName"]).items():
            path = ["Resources", name, "Properties", "SecurityPolicy"]
            policies.append((name, path, domain.get("Properties", {}).get("SecurityPolicy")))
        for name, domain in cfn.get_resources(["AWS::ApiGatewayV2::DomainName"]).items():
            for index, config in enumerate(domain.get("Properties", {}).get("DomainNameConfigurations", [])):
                path = ["Resources", name, "Properties", "DomainNameConfigurations", index]
                policies.append((name, path, config.get("SecurityPolicy")))
        return [
            RuleMatch(path, f"{name}: SecurityPolicy {policy!r} allows TLS older than 1.2")
            for name, path, policy in policies
            if not isinstance(policy, str) or not MODERN_TLS.match(policy)
        ]


class HealthCheckBehindLatencyRecords(CloudFormationLintRule):
    id = "E9105"
    shortdesc = "Every latency record has an identifier and a health check of this stack"
    description = (
        "A Route 53 record with Region (latency routing) sets SetIdentifier and a HealthCheckId that refers to "
        "an AWS::Route53::HealthCheck of the template; otherwise Route 53 keeps sending clients to a dead region."
    )
    source_url = SOURCE
    tags = ["route53", "availability"]

    def match(self, cfn):
        matches = []
        checks = cfn.get_resources(["AWS::Route53::HealthCheck"])
        records = []
        for name, record in cfn.get_resources(["AWS::Route53::RecordSet"]).items():
            records.append((["Resources", name, "Properties"], name, record.get("Properties", {})))
        for name, group in cfn.get_resources(["AWS::Route53::RecordSetGroup"]).items():
            for index, record in enumerate(group.get("Properties", {}).get("RecordSets", [])):
                records.append((["Resources", name, "Properties", "RecordSets", index], name, record))
        for path, name, record in records:
            if "Region" not in record:
                continue
            if not record.get("SetIdentifier"):
                matches.append(RuleMatch(path, f"{name}: a latency record needs a SetIdentifier"))
            check = _referenced_resource(record.get("HealthCheckId"))
            if check not in checks:
                matches.append(
                    RuleMatch(
                        path, f"{name}: a latency record needs a HealthCheckId of this stack's health check"
                    )
                )
        return matches


class StrongTableWithoutTtlOrLocalIndex(CloudFormationLintRule):
    id = "E9106"
    shortdesc = "A multi-Region strongly consistent global table has no TTL and no local secondary index"
    description = (
        "MultiRegionConsistency STRONG (MRSC) does not support Time to Live or local secondary indexes (DynamoDB "
        "developer guide, 'Multi-Region strong consistency'); CloudFormation would fail only while creating the "
        "table. deploy/resources.js checks the regions at package time; this catches the properties serverless.yml "
        "shares between the modes."
    )
    source_url = SOURCE
    tags = ["dynamodb", "mrsc"]
    UNSUPPORTED = ("TimeToLiveSpecification", "LocalSecondaryIndexes")

    def match(self, cfn):
        matches = []
        for name, table in cfn.get_resources(["AWS::DynamoDB::GlobalTable"]).items():
            properties = table.get("Properties", {})
            if properties.get("MultiRegionConsistency") != "STRONG":
                continue
            for unsupported in self.UNSUPPORTED:
                if unsupported in properties:
                    path = ["Resources", name, "Properties", unsupported]
                    matches.append(RuleMatch(path, f"{name}: an MRSC table cannot have {unsupported}"))
        return matches
