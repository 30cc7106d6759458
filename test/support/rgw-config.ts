/**
 * ceph.conf for a throwaway single-host Ceph (one mon, one memstore OSD, one
 * radosgw) on 127.0.0.1, with no cephx and no mgr. The settings that are not
 * defaults each fix something measured (see ../shared/reference/ceph-rgw.md).
 */
export interface RgwConfigInput {
  fsid: string;
  dataDir: string;
  monPort: number;
  rgwPort: number;
  /** RAM the memstore OSD may use; the 256 MiB conformance object must fit beside everything else. */
  memstoreBytes: number;
}

export function rgwConfig(c: RgwConfigInput): string {
  const d = c.dataDir;
  return `[global]
fsid = ${c.fsid}
mon_host = v2:127.0.0.1:${c.monPort}
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_msgr1 = false
ms_bind_msgr2 = true
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
# radosgw defaults to 'secure', which cannot work without cephx (endless -13 errors)
ms_mon_client_mode = crc
run_dir = ${d}/run
admin_socket = ${d}/run/$name.asok
pid_file = ${d}/run/$name.pid
log_file = ${d}/log/$name.log
log_to_stderr = false
err_to_stderr = true
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
mon_warn_on_pool_no_redundancy = false
ms_async_op_threads = 2

[mon]
mon_data = ${d}/mon.$id
mon_cluster_log_file = ${d}/log/cluster.log
# the default 1 s per map update makes each of radosgw's pool creations cost ~1 s
paxos_propose_interval = 0.01
paxos_min_wait = 0.01

[osd]
osd_data = ${d}/osd.$id
# data in RAM: nothing to clean on disk, nothing slow to sync
osd_objectstore = memstore
memstore_device_bytes = ${c.memstoreBytes}
osd_check_max_object_name_len_on_startup = false
osd_op_num_shards = 2
osd_op_num_threads_per_shard = 1

[client]
log_file = ${d}/log/$name.log
admin_socket = ${d}/run/$name.$pid.asok

[client.rgw.a]
# tcp_nodelay: beast writes a response's headers and body separately; with Nagle on, every
# response with a body (GET, a refused conditional PUT) waited ~40 ms for the client's
# delayed ACK (measured: GET p50 44 ms -> 2.4 ms)
rgw_frontends = beast endpoint=127.0.0.1:${c.rgwPort} tcp_nodelay=1
rgw_data = ${d}/rgw
rgw_thread_pool_size = 64
rgw_enable_usage_log = false
rgw_dynamic_resharding = false
`;
}
