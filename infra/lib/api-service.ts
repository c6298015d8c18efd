import { Duration, IgnoreMode, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import { type IBucket } from 'aws-cdk-lib/aws-s3';
import * as secrets from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { DATABASE_NAME, DATABASE_USER } from './network';
import { imageContext } from './paths';

export interface ApiServiceProps {
  vpc: ec2.IVpc;
  /** The security group the database and Redis admit. */
  securityGroup: ec2.ISecurityGroup;
  image: ecs.ContainerImage;
  database: rds.DatabaseCluster;
  environment: Record<string, string>;
  statements: iam.PolicyStatement[];
  accessLogs: IBucket;
  certificateArn: string | null;
  /** What clients reach vigil at; the load balancer's address when not given. */
  publicUrl: string | null;
  minTasks: number;
  maxTasks: number;
}

const PORT = 4000;

// The API's Dockerfile also copies bin/; its context keeps the Dockerfile and .dockerignore.
const IMAGE_CONTEXT = imageContext(['Dockerfile', '.dockerignore', 'bin']);

/** The API image, built at deploy time from the repository's Dockerfile. */
export const repositoryImage = (root: string) =>
  ecs.ContainerImage.fromAsset(root, { exclude: IMAGE_CONTEXT, ignoreMode: IgnoreMode.DOCKER, platform: Platform.LINUX_AMD64 });

// The container builds DATABASE_URL from the injected password, so the secret never sits in the task definition.
const withDatabaseUrl = (command: string) =>
  `export DATABASE_URL="postgresql://$DB_USER:$DB_PASSWORD@$DB_HOST:$DB_PORT/$DB_NAME" && exec ${command}`;

/** The GraphQL API on ECS Fargate behind an ALB (health checked on /readyz), and the one-off migration task. */
export class ApiService extends Construct {
  readonly cluster: ecs.Cluster;
  readonly service: ecs.FargateService;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly migrationTask: ecs.FargateTaskDefinition;
  readonly adminKey: secrets.Secret;

  constructor(scope: Construct, id: string, props: ApiServiceProps) {
    super(scope, id);
    this.cluster = new ecs.Cluster(this, 'Cluster', { vpc: props.vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      internetFacing: true,
      // GraphQL subscriptions hold WebSockets open between messages.
      idleTimeout: Duration.minutes(5),
      dropInvalidHeaderFields: true,
    });
    // ELB writes access logs as a per-region principal: only a stack with a region (`-c region=…`) can name it.
    if (!Token.isUnresolved(Stack.of(this).region)) this.loadBalancer.logAccessLogs(props.accessLogs, 'alb');
    const scheme = props.certificateArn ? 'https' : 'http';
    const publicUrl = props.publicUrl ?? `${scheme}://${this.loadBalancer.loadBalancerDnsName}`;

    this.adminKey = new secrets.Secret(this, 'AdminApiKey', {
      description: 'vigil: the secret of the first ADMIN API key (VIGIL_ADMIN_API_KEY)',
      generateSecretString: { passwordLength: 40, excludePunctuation: true },
    });
    const signing = new secrets.Secret(this, 'UploadSigningSecret', {
      description: 'vigil: signs its own upload and download links on every instance (UPLOAD_SIGNING_SECRET)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
    const container = {
      environment: {
        ...props.environment,
        HOST: '0.0.0.0',
        PORT: String(PORT),
        PUBLIC_URL: publicUrl,
        DB_HOST: props.database.clusterEndpoint.hostname,
        DB_PORT: String(props.database.clusterEndpoint.port),
        DB_USER: DATABASE_USER,
        DB_NAME: DATABASE_NAME,
      },
      secrets: {
        DB_PASSWORD: ecs.Secret.fromSecretsManager(props.database.secret!, 'password'),
        VIGIL_ADMIN_API_KEY: ecs.Secret.fromSecretsManager(this.adminKey),
        UPLOAD_SIGNING_SECRET: ecs.Secret.fromSecretsManager(signing),
      },
    };
    const task = this.taskDefinition('Api', props, container, 'node dist/src/main.js', 1024, 2048);
    task.defaultContainer!.addPortMappings({ containerPort: PORT });
    for (const s of props.statements) task.taskRole.addToPrincipalPolicy(s);
    this.migrationTask = this.taskDefinition('Migrate', props, container, 'node bin/vigil.js migrate', 512, 1024);

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: task,
      desiredCount: props.minTasks,
      securityGroups: [props.securityGroup],
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      circuitBreaker: { rollback: true },
      minHealthyPercent: 100,
    });
    this.targetGroup = this.listen(props, scheme);
    const scaling = this.service.autoScaleTaskCount({ minCapacity: props.minTasks, maxCapacity: props.maxTasks });
    scaling.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: 60 });
    scaling.scaleOnRequestCount('Requests', { requestsPerTarget: 1000, targetGroup: this.targetGroup });
  }

  private taskDefinition(
    id: string,
    props: ApiServiceProps,
    container: Pick<ecs.ContainerDefinitionOptions, 'environment' | 'secrets'>,
    command: string,
    cpu: number,
    memoryLimitMiB: number,
  ): ecs.FargateTaskDefinition {
    const task = new ecs.FargateTaskDefinition(this, `${id}Task`, {
      cpu,
      memoryLimitMiB,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64 },
    });
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    task.addContainer(id, {
      ...container,
      image: props.image,
      entryPoint: ['sh', '-c'],
      command: [withDatabaseUrl(command)],
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: id.toLowerCase(), logGroup }),
    });
    return task;
  }

  private listen(props: ApiServiceProps, scheme: 'http' | 'https'): elbv2.ApplicationTargetGroup {
    const targetGroup = new elbv2.ApplicationTargetGroup(this, 'Targets', {
      vpc: props.vpc,
      port: PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      targets: [this.service],
      // Ready means the database, the bucket and Redis answer.
      healthCheck: { path: '/readyz', interval: Duration.seconds(15), healthyThresholdCount: 2, unhealthyThresholdCount: 3 },
      // SIGTERM lets requests in flight finish within SHUTDOWN_TIMEOUT_MS (10 s).
      deregistrationDelay: Duration.seconds(30),
    });
    if (scheme === 'https') {
      this.loadBalancer.addListener('Https', {
        port: 443,
        certificates: [elbv2.ListenerCertificate.fromArn(props.certificateArn!)],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        defaultTargetGroups: [targetGroup],
      });
      this.loadBalancer.addRedirect({ sourcePort: 80, targetPort: 443 });
    } else {
      this.loadBalancer.addListener('Http', { port: 80, defaultTargetGroups: [targetGroup] });
    }
    return targetGroup;
  }
}
