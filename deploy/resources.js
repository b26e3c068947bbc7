'use strict';

// CloudFormation fragments for serverless.yml that plain YAML cannot express: the global table's replicas
// and consistency mode, built from comma-separated params, one least-privilege role per function, and
// custom-domain resources that exist only when --param domain=... is given. osls calls each export with { resolveVariable }.
// Every check here runs at package time, offline, so a wrong param fails before anything is deployed.

// AWS regions as of 2025. A typo such as eu-centrl-1 would otherwise surface only minutes into a deploy,
// as a failed replica; cfn-lint does not check region names. Add a region here when AWS opens one.
const KNOWN_REGIONS = new Set([
  'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'ca-central-1', 'ca-west-1', 'mx-central-1',
  'sa-east-1', 'eu-central-1', 'eu-central-2', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-south-1',
  'eu-south-2', 'eu-north-1', 'il-central-1', 'me-south-1', 'me-central-1', 'af-south-1', 'ap-east-1',
  'ap-east-2', 'ap-south-1', 'ap-south-2', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3',
  'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5',
  'ap-southeast-6', 'ap-southeast-7', 'us-gov-east-1', 'us-gov-west-1', 'cn-north-1', 'cn-northwest-1',
]);
// Multi-Region strong consistency (MRSC) needs exactly three regions from one of these sets: three
// replicas, or two replicas and a witness (DynamoDB developer guide, "Multi-Region strong consistency";
// CloudFormation AWS::DynamoDB::GlobalTable GlobalTableWitness). Add a region here when AWS adds it to a set.
const MRSC_REGION_SETS = {
  US: ['us-east-1', 'us-east-2', 'us-west-2'],
  EU: ['eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-central-1'],
  AP: ['ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3'],
};
const CONSISTENCY_MODES = { eventual: 'EVENTUAL', strong: 'STRONG' };
const DOMAIN_PATTERN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const CERTIFICATE_ARN_PATTERN = /^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate\/[0-9a-f-]+$/;
const HOSTED_ZONE_ID_PATTERN = /^Z[A-Z0-9]{1,31}$/;

// The only DynamoDB action each function calls (see backend/handlers/ and backend/store.py). Each function
// in serverless.yml gets a role <Function>Role (e.g. GetKeyRole) allowed just that, and its logs.
const FUNCTION_ACTIONS = {
  getKey: 'dynamodb:GetItem',
  setKey: 'dynamodb:PutItem',
  deleteKey: 'dynamodb:DeleteItem',
  health: 'dynamodb:DescribeTable',
};

// Route 53 checks every 30 s and marks a region unhealthy after 3 failures in a row (AWS defaults).
const HEALTH_CHECK_INTERVAL_SECONDS = 30;
const HEALTH_CHECK_FAILURE_THRESHOLD = 3;

function fail(message) {
  // osls prints error.stack of a failing resolver; a stack that is just the message keeps the
  // output to one readable line for a configuration mistake.
  const error = new Error(`serverless.yml (deploy/resources.js): ${message}`);
  error.stack = error.message;
  throw error;
}

async function optionalParam(resolveVariable, name) {
  // "${param:x, null}" yields null instead of failing when the param is absent.
  const value = await resolveVariable(`param:${name}, null`);
  if (value === null || value === undefined) return '';
  return String(value).trim();
}

function parseRegions(text) {
  const regions = text
    .split(',')
    .map((region) => region.trim())
    .filter(Boolean);
  if (regions.length === 0) fail('--param regions must list at least one region');
  for (const region of regions) {
    if (!KNOWN_REGIONS.has(region)) {
      fail(`"${region}" in --param regions is not an AWS region (a new one? add it to KNOWN_REGIONS)`);
    }
  }
  if (new Set(regions).size !== regions.length) fail(`--param regions lists a region twice: ${text}`);
  return regions;
}

function mrscRegionSet(region) {
  return Object.keys(MRSC_REGION_SETS).find((name) => MRSC_REGION_SETS[name].includes(region));
}

function checkStrongRegions(replicaRegions, witness) {
  if (witness && replicaRegions.includes(witness)) {
    fail(`--param witness=${witness} is also in --param regions: the witness must be a region without a replica`);
  }
  if (replicaRegions.length + (witness ? 1 : 0) !== 3) {
    const witnessed = witness ? `and witness ${witness}` : 'and no witness';
    fail(
      '--param consistency=strong needs exactly three regions: three replicas in --param regions, or two and ' +
        `--param witness=<region>; got ${replicaRegions.length} replicas (${replicaRegions.join(',')}) ${witnessed}`,
    );
  }
  const regions = witness ? [...replicaRegions, witness] : replicaRegions;
  const sets = Object.entries(MRSC_REGION_SETS).map(([name, members]) => `${name} (${members.join(', ')})`);
  const outside = regions.filter((region) => !mrscRegionSet(region));
  if (outside.length > 0) {
    fail(`--param consistency=strong is not offered in ${outside.join(', ')}; MRSC region sets: ${sets.join('; ')}`);
  }
  if (new Set(regions.map(mrscRegionSet)).size > 1) {
    const where = regions.map((region) => `${region} is ${mrscRegionSet(region)}`).join(', ');
    fail(`--param consistency=strong needs its three regions in one MRSC region set, not several: ${where}`);
  }
}

// The one place that decides the global table's mode-dependent properties, from the params as text.
// Pure (no osls), so the tests can try every refused combination without packaging.
function globalTableProperties({ regions, primaryRegion, deployingRegion, consistency, witness }) {
  const mode = CONSISTENCY_MODES[consistency];
  if (!mode) fail(`--param consistency=${consistency} must be eventual or strong`);
  const replicaRegions = parseRegions(regions);
  if (witness && !KNOWN_REGIONS.has(witness)) fail(`--param witness=${witness} is not an AWS region`);
  if (witness && mode !== 'STRONG') {
    fail('--param witness is only for --param consistency=strong: an eventually consistent table has no witness');
  }
  if (!replicaRegions.includes(primaryRegion)) {
    fail(`--param primaryRegion=${primaryRegion} must be one of --param regions=${replicaRegions.join(',')}`);
  }
  if (deployingRegion === witness) {
    fail(`the deploying region ${deployingRegion} is the witness, which holds no readable replica: deploy the API in a replica region`);
  }
  if (!replicaRegions.includes(deployingRegion)) {
    fail(`the deploying region ${deployingRegion} has no replica: add it to --param regions`);
  }
  const replicas = replicaRegions.map((region) => ({
    Region: region,
    PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
  }));
  if (mode === 'EVENTUAL') {
    // MREC replicates through the table's stream: CloudFormation requires one with more than one replica.
    return { StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' }, Replicas: replicas };
  }
  checkStrongRegions(replicaRegions, witness);
  // MRSC replicates synchronously, without the stream (CloudFormation does not require one), and allows no
  // TTL, local secondary index or transaction: the table keeps none of them.
  return {
    MultiRegionConsistency: mode,
    Replicas: replicas,
    ...(witness ? { GlobalTableWitnesses: [{ Region: witness }] } : {}),
  };
}

async function globalTable({ resolveVariable }) {
  // Merged by osls into KeyValuesGlobalTable of serverless.yml, which holds the properties every mode shares.
  const properties = globalTableProperties({
    regions: await optionalParam(resolveVariable, 'regions'),
    primaryRegion: await optionalParam(resolveVariable, 'primaryRegion'),
    deployingRegion: await resolveVariable('self:provider.region'),
    consistency: await optionalParam(resolveVariable, 'consistency'),
    witness: await optionalParam(resolveVariable, 'witness'),
  });
  return { Resources: { KeyValuesGlobalTable: { Properties: properties } } };
}

async function lambdaFunctionName(resolveVariable, functionKey) {
  // osls names functions <service>-<stage>-<key>; its log group is /aws/lambda/<that name>.
  const service = await resolveVariable('self:service');
  const stage = await resolveVariable('sls:stage');
  return `${service}-${stage}-${functionKey}`;
}

function roleFor(functionKey) {
  return async ({ resolveVariable }) => {
    const tableName = await resolveVariable('self:custom.tableName');
    const functionName = await lambdaFunctionName(resolveVariable, functionKey);
    return {
      Type: 'AWS::IAM::Role',
      Properties: {
        Description: `Runs ${functionName}: ${FUNCTION_ACTIONS[functionKey]} on table ${tableName} in this region only`,
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'lambda.amazonaws.com' },
              Action: 'sts:AssumeRole',
            },
          ],
        },
        Policies: [
          {
            PolicyName: `${functionKey}-least-privilege`,
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                {
                  Sid: 'TableInThisRegion',
                  Effect: 'Allow',
                  Action: [FUNCTION_ACTIONS[functionKey]],
                  Resource: {
                    'Fn::Sub': `arn:\${AWS::Partition}:dynamodb:\${AWS::Region}:\${AWS::AccountId}:table/${tableName}`,
                  },
                },
                {
                  // Lambda names the streams itself (date/[version]id), so the only wildcard left is
                  // the stream name inside this function's own log group.
                  Sid: 'OwnLogGroup',
                  Effect: 'Allow',
                  Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
                  Resource: {
                    'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${functionName}:*`,
                  },
                },
              ],
            },
          },
        ],
      },
    };
  };
}

async function customDomain({ resolveVariable }) {
  const domain = (await optionalParam(resolveVariable, 'domain')).toLowerCase().replace(/\.$/, '');
  if (!domain) return {};
  if (!DOMAIN_PATTERN.test(domain)) fail(`--param domain=${domain} is not a valid DNS name`);

  const deployingRegion = await resolveVariable('self:provider.region');
  const stage = await resolveVariable('sls:stage');
  const instanceId = await resolveVariable('sls:instanceId');

  const certificateArn = await optionalParam(resolveVariable, 'certificateArn');
  const certificate = CERTIFICATE_ARN_PATTERN.exec(certificateArn);
  if (!certificate) {
    fail('--param domain needs --param certificateArn=<ACM certificate ARN for the domain in the deploying region>');
  }
  if (certificate[1] !== deployingRegion) {
    fail(`a regional API needs its certificate in ${deployingRegion}; --param certificateArn is in ${certificate[1]}`);
  }

  const hostedZoneId = await optionalParam(resolveVariable, 'hostedZoneId');
  const hostedZoneName = await optionalParam(resolveVariable, 'hostedZoneName');
  let hostedZone;
  if (hostedZoneId) {
    if (!HOSTED_ZONE_ID_PATTERN.test(hostedZoneId)) fail(`--param hostedZoneId=${hostedZoneId} is not a Route 53 zone id`);
    hostedZone = { HostedZoneId: hostedZoneId };
  } else if (hostedZoneName) {
    const zone = hostedZoneName.toLowerCase().replace(/\.$/, '');
    if (domain !== zone && !domain.endsWith(`.${zone}`)) fail(`--param domain=${domain} is not inside zone ${zone}`);
    hostedZone = { HostedZoneName: `${zone}.` };
  } else {
    fail('--param domain needs --param hostedZoneName=<zone, e.g. example.com> or --param hostedZoneId=<Z...>');
  }

  return {
    Resources: {
      // The same name in every region; each region's API Gateway serves it with that region's certificate.
      ApiRegionalDomainName: {
        Type: 'AWS::ApiGateway::DomainName',
        Properties: {
          DomainName: domain,
          EndpointConfiguration: { Types: ['REGIONAL'] },
          RegionalCertificateArn: certificateArn,
          SecurityPolicy: 'TLS_1_2',
        },
      },
      // Maps the domain's root to the dev stage, which the deployment creates: wait for it.
      ApiBasePathMapping: {
        Type: 'AWS::ApiGateway::BasePathMapping',
        DependsOn: [`ApiGatewayDeployment${instanceId}`],
        Properties: {
          DomainName: { Ref: 'ApiRegionalDomainName' },
          RestApiId: { Ref: 'ApiGatewayRestApi' },
          Stage: stage,
        },
      },
      // Probes this region's own execute-api host, not the shared name, so a failure is this region's.
      ApiHealthCheck: {
        Type: 'AWS::Route53::HealthCheck',
        Properties: {
          HealthCheckConfig: {
            Type: 'HTTPS',
            FullyQualifiedDomainName: {
              'Fn::Sub': '${ApiGatewayRestApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}',
            },
            Port: 443,
            // API Gateway serves execute-api hosts only to clients that send SNI.
            EnableSNI: true,
            ResourcePath: `/${stage}/_health`,
            RequestInterval: HEALTH_CHECK_INTERVAL_SECONDS,
            FailureThreshold: HEALTH_CHECK_FAILURE_THRESHOLD,
          },
          HealthCheckTags: [{ Key: 'Name', Value: { 'Fn::Sub': `${domain} \${AWS::Region}` } }],
        },
      },
      // One latency record per region under the same name; Route 53 answers with the closest healthy one.
      ApiLatencyRecord: {
        Type: 'AWS::Route53::RecordSet',
        Properties: {
          ...hostedZone,
          Name: `${domain}.`,
          Type: 'A',
          SetIdentifier: deployingRegion,
          Region: deployingRegion,
          HealthCheckId: { Ref: 'ApiHealthCheck' },
          AliasTarget: {
            DNSName: { 'Fn::GetAtt': ['ApiRegionalDomainName', 'RegionalDomainName'] },
            HostedZoneId: { 'Fn::GetAtt': ['ApiRegionalDomainName', 'RegionalHostedZoneId'] },
            EvaluateTargetHealth: true,
          },
        },
      },
    },
    Outputs: {
      RegionalDomainName: {
        Description: 'API Gateway regional host behind the latency record of this region',
        Value: { 'Fn::GetAtt': ['ApiRegionalDomainName', 'RegionalDomainName'] },
      },
      CustomDomainUrl: {
        Description: 'The latency-routed URL (the closest healthy region answers)',
        Value: `https://${domain}`,
      },
    },
  };
}

function roleLogicalId(functionKey) {
  return `${functionKey[0].toUpperCase()}${functionKey.slice(1)}Role`;
}

async function roles({ resolveVariable }) {
  // Every function in serverless.yml must have its action listed above, and nothing more: a new
  // function without a role would otherwise fail only at deploy time.
  const functions = Object.keys((await resolveVariable('self:functions')) || {}).sort();
  const known = Object.keys(FUNCTION_ACTIONS).sort();
  if (functions.join() !== known.join()) {
    fail(`functions (${functions.join(', ')}) and FUNCTION_ACTIONS (${known.join(', ')}) must name the same functions`);
  }
  const resources = {};
  for (const functionKey of known) {
    resources[roleLogicalId(functionKey)] = await roleFor(functionKey)({ resolveVariable });
  }
  return { Resources: resources };
}

module.exports = { globalTable, globalTableProperties, roles, customDomain };
