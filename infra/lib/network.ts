import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Construct } from 'constructs';

export const DATABASE_NAME = 'vigil';
export const DATABASE_USER = 'vigil';

/** The VPC, PostgreSQL (Aurora Serverless v2) and Redis: the database and cache sit in isolated subnets. */
export class Network extends Construct {
  readonly vpc: ec2.Vpc;
  readonly database: rds.DatabaseCluster;
  readonly redis: elasticache.CfnReplicationGroup;
  /** Everything that may open a connection to the database and Redis. */
  readonly clients: ec2.SecurityGroup;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 1,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      ],
      flowLogs: {
        rejected: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(
            new logs.LogGroup(this, 'FlowLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }),
          ),
          trafficType: ec2.FlowLogTrafficType.REJECT,
        },
      },
    });
    this.clients = new ec2.SecurityGroup(this, 'DataClients', { vpc: this.vpc, description: 'vigil API tasks and Lambdas' });
    this.database = this.postgres();
    this.redis = this.redisGroup();
  }

  private postgres(): rds.DatabaseCluster {
    const cluster = new rds.DatabaseCluster(this, 'Database', {
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_16_6 }),
      // No characters that would need escaping inside a postgresql:// URL.
      credentials: rds.Credentials.fromGeneratedSecret(DATABASE_USER, { excludeCharacters: ' %+~`#$&*()|[]{}:;<>?!\'/@"\\^,=' }),
      defaultDatabaseName: DATABASE_NAME,
      writer: rds.ClusterInstance.serverlessV2('writer'),
      readers: [rds.ClusterInstance.serverlessV2('reader', { scaleWithWriter: true })],
      serverlessV2MinCapacity: 0.5,
      serverlessV2MaxCapacity: 8,
      vpc: this.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      storageEncrypted: true,
      deletionProtection: true,
      backup: { retention: Duration.days(14) },
      cloudwatchLogsExports: ['postgresql'],
      cloudwatchLogsRetention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.SNAPSHOT,
    });
    cluster.connections.allowDefaultPortFrom(this.clients, 'vigil API tasks and Lambdas');
    return cluster;
  }

  private redisGroup(): elasticache.CfnReplicationGroup {
    const sg = new ec2.SecurityGroup(this, 'RedisSecurityGroup', { vpc: this.vpc, description: 'vigil Redis', allowAllOutbound: false });
    sg.addIngressRule(this.clients, ec2.Port.tcp(6379), 'vigil API tasks and Lambdas');
    const subnets = new elasticache.CfnSubnetGroup(this, 'RedisSubnets', {
      description: 'vigil Redis',
      subnetIds: this.vpc.isolatedSubnets.map((s) => s.subnetId),
    });
    return new elasticache.CfnReplicationGroup(this, 'Redis', {
      replicationGroupDescription: 'vigil subscriptions across API instances',
      engine: 'redis',
      engineVersion: '7.1',
      cacheNodeType: 'cache.t4g.micro',
      numCacheClusters: 2,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      atRestEncryptionEnabled: true,
      transitEncryptionEnabled: true,
      cacheSubnetGroupName: subnets.ref,
      securityGroupIds: [sg.securityGroupId],
    });
  }

  /** rediss:// (TLS in transit) to the primary. */
  get redisUrl(): string {
    return `rediss://${this.redis.attrPrimaryEndPointAddress}:${this.redis.attrPrimaryEndPointPort}`;
  }
}
