/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of agent/config.c: defaults, every option, lists, and the
 * errors that must name the file and line (unknown key, wrong type, out
 * of range, YAML syntax), address splitting, and the config hash. */
#include <sodium.h>

#include "testutil.h"
#include "config.h"

static int parse(const char *text, struct agent_config *c, char *err, size_t n)
{
	config_defaults(c);
	return config_parse("agent.conf", text, strlen(text), c, err, n);
}

static void test_defaults_and_empty(void **state)
{
	struct agent_config c;
	char err[256];

	(void)state;
	assert_int_equal(parse("", &c, err, sizeof(err)), 0);
	assert_int_equal(c.batch_max_delay_ms, 1000);
	assert_int_equal(c.heartbeat_s, 10);
	assert_int_equal(c.spool_max_bytes, 1ull << 30);
	assert_string_equal(c.host_key, "/var/lib/custos/agent/host.key");
	assert_false(c.all_opens);
	config_free(&c);
	assert_int_equal(parse("# only a comment\n", &c, err, sizeof(err)), 0);
	config_free(&c);
	assert_int_equal(parse("all_opens: false\n", &c, err, sizeof(err)), 0);
	assert_false(c.all_opens);
	config_free(&c);
}

static void test_all_options(void **state)
{
	static const char text[] =
		"# agent\n"
		"collector: collector.example:7400\n"
		"collector_key: /etc/custos/c.pub\n"
		"host_key: /k/host.key\n"
		"spool_dir: /s\n"
		"spool_max_bytes: 2097152\n"
		"batch_max_bytes: 65536\n"
		"batch_max_delay_ms: 250\n"
		"heartbeat_s: 5\n"
		"max_inflight: 4\n"
		"clock_step_ms: 50\n"
		"all_opens: true\n"
		"sensitive_paths: [/etc/shadow, /root/.ssh]\n"
		"noise_comms:\n  - systemd-journal\n  - chronyd\n"
		"ignore_exe: [/usr/sbin/chronyd]\n";
	struct agent_config c;
	uint8_t h[CUSTOS_HASH_LEN];
	char err[256];

	(void)state;
	assert_int_equal(parse(text, &c, err, sizeof(err)), 0);
	assert_string_equal(c.collector, "collector.example:7400");
	assert_string_equal(c.collector_key, "/etc/custos/c.pub");
	assert_string_equal(c.host_key, "/k/host.key");
	assert_string_equal(c.spool_dir, "/s");
	assert_int_equal(c.spool_max_bytes, 2097152);
	assert_int_equal(c.batch_max_bytes, 65536);
	assert_int_equal(c.batch_max_delay_ms, 250);
	assert_int_equal(c.heartbeat_s, 5);
	assert_int_equal(c.max_inflight, 4);
	assert_int_equal(c.clock_step_ms, 50);
	assert_true(c.all_opens);
	assert_int_equal(c.n_sensitive, 2);
	assert_string_equal(c.sensitive_paths[1], "/root/.ssh");
	assert_int_equal(c.n_noise_comms, 2);
	assert_string_equal(c.noise_comms[0], "systemd-journal");
	assert_int_equal(c.n_ignore_exe, 1);
	assert_string_equal(c.ignore_exe[0], "/usr/sbin/chronyd");
	assert_int_equal(c.text_len, strlen(text));
	crypto_generichash(h, sizeof(h), (const uint8_t *)text, strlen(text), NULL, 0);
	assert_memory_equal(c.hash, h, sizeof(h));
	config_free(&c);
}

static void expect_error(const char *text, const char *msg)
{
	struct agent_config c;
	char err[256];

	assert_int_equal(parse(text, &c, err, sizeof(err)), -CUSTOS_ERR_MALFORMED);
	if (!strstr(err, msg))
		fail_msg("error '%s' does not contain '%s'", err, msg);
	config_free(&c);
}

static void test_errors_name_file_and_line(void **state)
{
	(void)state;
	expect_error("heartbeat_s: 5\n\nspool_size: 3\n", "agent.conf:3: unknown key 'spool_size'");
	expect_error("heartbeat_s: -5\n", "agent.conf:1: 'heartbeat_s' needs a whole number");
	expect_error("heartbeat_s: 5s\n", "agent.conf:1:");
	expect_error("heartbeat_s: 0\n", "from 1 to 3600");
	expect_error("batch_max_delay_ms: 99999999999999999999999\n", "agent.conf:1:");
	expect_error("host_key: [a, b]\n", "agent.conf:1: 'host_key' must be a single value");
	expect_error("sensitive_paths: /etc\n", "'sensitive_paths' must be a list");
	expect_error("sensitive_paths: [[a]]\n", "must be plain values");
	expect_error("- a\n- b\n", "must be a mapping");
	expect_error("collector: \"unterminated\n", "agent.conf:2: YAML syntax");
	expect_error("x: 1\n---\ny: 2\n", "unknown key 'x'");
	expect_error("heartbeat_s: 5\n---\nheartbeat_s: 6\n", "only one YAML document");
	expect_error("heartbeat_s: 5\nall_opens: yes\n", "agent.conf:2: 'all_opens' must be true or false");
	expect_error("all_opens: 1\n", "'all_opens' must be true or false");
	expect_error("all_opens: [true]\n", "'all_opens' must be a single value");
}

static void test_load_missing_and_oversized(void **state)
{
	struct agent_config c;
	char err[256];
	char *big = malloc(CUSTOS_CONFIG_MAX + 10);

	(void)state;
	assert_non_null(big);
	config_defaults(&c);
	assert_int_equal(config_load("/nonexistent/agent.conf", &c, err, sizeof(err)),
			 -CUSTOS_ERR_IO);
	assert_non_null(strstr(err, "/nonexistent/agent.conf"));
	memset(big, '#', CUSTOS_CONFIG_MAX + 10);
	assert_int_equal(config_parse("big", big, CUSTOS_CONFIG_MAX + 10, &c, err, sizeof(err)),
			 -CUSTOS_ERR_OVERSIZED);
	config_free(&c);
	free(big);
}

static void test_split_addr(void **state)
{
	char host[64];
	uint16_t port;

	(void)state;
	assert_int_equal(config_split_addr("127.0.0.1:7400", host, sizeof(host), &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 7400);
	assert_int_equal(config_split_addr("[::1]:1", host, sizeof(host), &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(config_split_addr("host", host, sizeof(host), &port), -CUSTOS_ERR_INVAL);
	assert_int_equal(config_split_addr("host:0", host, sizeof(host), &port), -CUSTOS_ERR_INVAL);
	assert_int_equal(config_split_addr("host:65536", host, sizeof(host), &port),
			 -CUSTOS_ERR_INVAL);
	assert_int_equal(config_split_addr(":80", host, sizeof(host), &port), -CUSTOS_ERR_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_empty),
		cmocka_unit_test(test_all_options),
		cmocka_unit_test(test_errors_name_file_and_line),
		cmocka_unit_test(test_load_missing_and_oversized),
		cmocka_unit_test(test_split_addr),
	};

	assert_int_equal(custos_init(), 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
