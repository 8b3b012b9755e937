"""Every operation Headwater answers, by (service, operation name)."""

from __future__ import annotations

from .context import Handler
from .dax import clusters as dax_clusters
from .dax import events as dax_events
from .dax import parameter_groups as dax_parameter_groups
from .dax import subnet_groups as dax_subnet_groups
from .dax import tags as dax_tags
from .dynamodb import (
    batch_execute_statement,
    batch_get_item,
    batch_write_item,
    create_backup,
    create_global_table,
    create_table,
    delete_backup,
    delete_item,
    delete_resource_policy,
    delete_table,
    describe_backup,
    describe_continuous_backups,
    describe_endpoints,
    describe_export,
    describe_global_table,
    describe_global_table_settings,
    describe_import,
    describe_kinesis_streaming_destination,
    describe_limits,
    describe_table,
    describe_table_replica_auto_scaling,
    describe_time_to_live,
    disable_kinesis_streaming_destination,
    enable_kinesis_streaming_destination,
    execute_statement,
    execute_transaction,
    export_table_to_point_in_time,
    get_item,
    get_resource_policy,
    import_table,
    list_backups,
    list_exports,
    list_global_tables,
    list_imports,
    list_tables,
    list_tags_of_resource,
    put_item,
    put_resource_policy,
    query,
    restore_table_from_backup,
    restore_table_to_point_in_time,
    scan,
    tag_resource,
    transact_get_items,
    transact_write_items,
    untag_resource,
    update_continuous_backups,
    update_global_table,
    update_global_table_settings,
    update_item,
    update_kinesis_streaming_destination,
    update_table,
    update_table_replica_auto_scaling,
    update_time_to_live,
)
from .kinesis import (
    add_tags_to_stream,
    create_stream,
    decrease_stream_retention_period,
    delete_stream,
    describe_stream_summary,
    increase_stream_retention_period,
    list_shards,
    list_tags_for_stream,
    merge_shards,
    put_record,
    put_records,
    remove_tags_from_stream,
    split_shard,
    update_shard_count,
)
from .kinesis import describe_stream as kinesis_describe_stream
from .kinesis import get_records as kinesis_get_records
from .kinesis import get_shard_iterator as kinesis_get_shard_iterator
from .kinesis import list_streams as kinesis_list_streams
from .streams import describe_stream, get_records, get_shard_iterator, list_streams

DYNAMODB_OPERATIONS: dict[str, Handler] = {
    "BatchExecuteStatement": batch_execute_statement.handle,
    "BatchGetItem": batch_get_item.handle,
    "BatchWriteItem": batch_write_item.handle,
    "CreateBackup": create_backup.handle,
    "CreateGlobalTable": create_global_table.handle,
    "CreateTable": create_table.handle,
    "DeleteBackup": delete_backup.handle,
    "DeleteItem": delete_item.handle,
    "DeleteResourcePolicy": delete_resource_policy.handle,
    "DeleteTable": delete_table.handle,
    "DescribeBackup": describe_backup.handle,
    "DescribeContinuousBackups": describe_continuous_backups.handle,
    "DescribeEndpoints": describe_endpoints.handle,
    "DescribeExport": describe_export.handle,
    "DescribeGlobalTable": describe_global_table.handle,
    "DescribeGlobalTableSettings": describe_global_table_settings.handle,
    "DescribeImport": describe_import.handle,
    "DescribeKinesisStreamingDestination": describe_kinesis_streaming_destination.handle,
    "DescribeLimits": describe_limits.handle,
    "DescribeTable": describe_table.handle,
    "DescribeTableReplicaAutoScaling": describe_table_replica_auto_scaling.handle,
    "DescribeTimeToLive": describe_time_to_live.handle,
    "DisableKinesisStreamingDestination": disable_kinesis_streaming_destination.handle,
    "EnableKinesisStreamingDestination": enable_kinesis_streaming_destination.handle,
    "ExecuteStatement": execute_statement.handle,
    "ExecuteTransaction": execute_transaction.handle,
    "ExportTableToPointInTime": export_table_to_point_in_time.handle,
    "GetItem": get_item.handle,
    "GetResourcePolicy": get_resource_policy.handle,
    "ImportTable": import_table.handle,
    "ListBackups": list_backups.handle,
    "ListExports": list_exports.handle,
    "ListGlobalTables": list_global_tables.handle,
    "ListImports": list_imports.handle,
    "ListTables": list_tables.handle,
    "ListTagsOfResource": list_tags_of_resource.handle,
    "PutItem": put_item.handle,
    "PutResourcePolicy": put_resource_policy.handle,
    "Query": query.handle,
    "RestoreTableFromBackup": restore_table_from_backup.handle,
    "RestoreTableToPointInTime": restore_table_to_point_in_time.handle,
    "Scan": scan.handle,
    "TagResource": tag_resource.handle,
    "TransactGetItems": transact_get_items.handle,
    "TransactWriteItems": transact_write_items.handle,
    "UntagResource": untag_resource.handle,
    "UpdateContinuousBackups": update_continuous_backups.handle,
    "UpdateGlobalTable": update_global_table.handle,
    "UpdateGlobalTableSettings": update_global_table_settings.handle,
    "UpdateItem": update_item.handle,
    "UpdateKinesisStreamingDestination": update_kinesis_streaming_destination.handle,
    "UpdateTable": update_table.handle,
    "UpdateTableReplicaAutoScaling": update_table_replica_auto_scaling.handle,
    "UpdateTimeToLive": update_time_to_live.handle,
}

STREAMS_OPERATIONS: dict[str, Handler] = {
    "DescribeStream": describe_stream.handle,
    "GetRecords": get_records.handle,
    "GetShardIterator": get_shard_iterator.handle,
    "ListStreams": list_streams.handle,
}

KINESIS_OPERATIONS: dict[str, Handler] = {
    "AddTagsToStream": add_tags_to_stream.handle,
    "CreateStream": create_stream.handle,
    "DecreaseStreamRetentionPeriod": decrease_stream_retention_period.handle,
    "DeleteStream": delete_stream.handle,
    "DescribeStream": kinesis_describe_stream.handle,
    "DescribeStreamSummary": describe_stream_summary.handle,
    "GetRecords": kinesis_get_records.handle,
    "GetShardIterator": kinesis_get_shard_iterator.handle,
    "IncreaseStreamRetentionPeriod": increase_stream_retention_period.handle,
    "ListShards": list_shards.handle,
    "ListStreams": kinesis_list_streams.handle,
    "ListTagsForStream": list_tags_for_stream.handle,
    "MergeShards": merge_shards.handle,
    "PutRecord": put_record.handle,
    "PutRecords": put_records.handle,
    "RemoveTagsFromStream": remove_tags_from_stream.handle,
    "SplitShard": split_shard.handle,
    "UpdateShardCount": update_shard_count.handle,
}


DAX_OPERATIONS: dict[str, Handler] = {
    "CreateCluster": dax_clusters.create_cluster,
    "CreateParameterGroup": dax_parameter_groups.create_parameter_group,
    "CreateSubnetGroup": dax_subnet_groups.create_subnet_group,
    "DecreaseReplicationFactor": dax_clusters.decrease_replication_factor,
    "DeleteCluster": dax_clusters.delete_cluster,
    "DeleteParameterGroup": dax_parameter_groups.delete_parameter_group,
    "DeleteSubnetGroup": dax_subnet_groups.delete_subnet_group,
    "DescribeClusters": dax_clusters.describe_clusters,
    "DescribeDefaultParameters": dax_parameter_groups.describe_default_parameters,
    "DescribeEvents": dax_events.describe_events,
    "DescribeParameterGroups": dax_parameter_groups.describe_parameter_groups,
    "DescribeParameters": dax_parameter_groups.describe_parameters,
    "DescribeSubnetGroups": dax_subnet_groups.describe_subnet_groups,
    "IncreaseReplicationFactor": dax_clusters.increase_replication_factor,
    "ListTags": dax_tags.list_tags,
    "RebootNode": dax_clusters.reboot_node,
    "TagResource": dax_tags.tag_resource,
    "UntagResource": dax_tags.untag_resource,
    "UpdateCluster": dax_clusters.update_cluster,
    "UpdateParameterGroup": dax_parameter_groups.update_parameter_group,
    "UpdateSubnetGroup": dax_subnet_groups.update_subnet_group,
}


def operations() -> dict[tuple[str, str], Handler]:
    table = {("dynamodb", name): handler for name, handler in DYNAMODB_OPERATIONS.items()}
    table.update({("dynamodbstreams", name): handler for name, handler in STREAMS_OPERATIONS.items()})
    table.update({("kinesis", name): handler for name, handler in KINESIS_OPERATIONS.items()})
    table.update({("dax", name): handler for name, handler in DAX_OPERATIONS.items()})
    return table


# What a front process answers on its own read connections; everything else goes to the process that owns
# the writer. TransactGetItems is not here: it reads its items at one instant through the writer. Nor is
# GetRecords (Streams and Kinesis): on SQLite a shard's readers are counted in that one process
# (storage/shard_uses.py), so the 2-readers-per-shard rule and Kinesis's per-shard limits hold.
READ_OPERATIONS: frozenset[tuple[str, str]] = frozenset(
    {
        *(
            ("dynamodb", name)
            for name in (
                "BatchGetItem",
                "DescribeBackup",
                "DescribeContinuousBackups",
                "DescribeEndpoints",
                "DescribeExport",
                "DescribeImport",
                "DescribeKinesisStreamingDestination",
                "DescribeLimits",
                "DescribeTable",
                "DescribeTimeToLive",
                "GetItem",
                "GetResourcePolicy",
                "ListBackups",
                "ListExports",
                "ListImports",
                "ListTables",
                "ListTagsOfResource",
                "Query",
                "Scan",
            )
        ),
        *(("dynamodbstreams", name) for name in STREAMS_OPERATIONS if name != "GetRecords"),
        *(
            ("kinesis", name)
            for name in (
                "DescribeStream",
                "DescribeStreamSummary",
                "GetShardIterator",
                "ListShards",
                "ListStreams",
                "ListTagsForStream",
            )
        ),
    }
)


def read_operations() -> frozenset[tuple[str, str]]:
    return READ_OPERATIONS
