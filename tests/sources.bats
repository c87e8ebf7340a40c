#!/usr/bin/env bats
# The range sources of texporter-update-ranges: for each provider a small
# list in its published format (written here, after the provider's
# documented schema) and the exact prefixes it must give; conflicts and
# malformed lists; --dry-run's diff; a config of every country from a
# synthetic set of the five RIRs' statistics, loaded and counted.
# Offline: every list is read with --from-dir.

load helpers

setup() {
	ETC=$BATS_TEST_TMPDIR/etc
	LISTS=$BATS_TEST_TMPDIR/lists
	mkdir -p "$ETC" "$LISTS"
	tx_write_config "$ETC/static.json" private=10.0.0.0/8,fc00::/7
	cp "$ETC/static.json" "$ETC/config.json"
	cp "$ETC/config.json" "$BATS_TEST_TMPDIR/config.before"
	FROM=(--from-dir "$LISTS")
	IN_NS=()
}

teardown() {
	tx_teardown
}

# update SOURCES [OPTIONS]: run texporter-update-ranges on the lists of
# LISTS (FROM), settings from the environment only; inside a namespace
# when IN_NS says so.
update() {
	local sources=$1
	shift
	run "${IN_NS[@]}" "$TX_REPO/scripts/texporter-update-ranges" -c "$ETC/config.json" \
		-s "$ETC/static.json" --settings /dev/null "${FROM[@]}" \
		--loader "$BUILD/texporter-load" --no-reload -r "$sources" "$@"
}

# The fetched ranges of the config as "name prefix prefix ..." lines, the
# static range "private" left out.
fetched_ranges() {
	"$PYTHON" -c 'import json, sys
for r in json.load(open(sys.argv[1])):
    if r["name"] != "private":
        print(r["name"], *r["ipv4"], *r["ipv6"])' "$ETC/config.json"
}

# The ranges an RIR statistics file or an IPtoASN table gives, by Python's
# ipaddress straight from the fields: "name prefix ..." lines, sorted as
# the config sorts them. Reads the files given; NAMES maps an AS number to
# its name for IPtoASN ("2906=netflix 13335=cf").
expected_by_ipaddress() {
	"$PYTHON" - "$@" <<-'EOF'
		import ipaddress, os, sys
		names = dict(i.split("=") for i in os.environ.get("NAMES", "").split())
		want = set(os.environ.get("COUNTRIES", "").split())
		out = {}
		for path in sys.argv[1:]:
		    for line in open(path):
		        f = line.rstrip("\n").split("\t" if "\t" in line else "|")
		        if "\t" in line:
		            if f[2] in names:
		                first, last = map(ipaddress.ip_address, f[:2])
		                nets = ipaddress.summarize_address_range(first, last)
		                out.setdefault(names[f[2]], set()).update(nets)
		        elif len(f) >= 7 and f[2] in ("ipv4", "ipv6") and f[6] in ("allocated", "assigned"):
		            if f[1] not in want:
		                continue
		            start = ipaddress.ip_address(f[3])
		            if f[2] == "ipv4":
		                nets = ipaddress.summarize_address_range(start, start + int(f[4]) - 1)
		            else:
		                nets = [ipaddress.ip_network(f"{f[3]}/{f[4]}")]
		            out.setdefault(f[1], set()).update(nets)
		key = lambda n: (n.version, int(n.network_address), n.prefixlen)
		for name in sorted(out):
		    print(name, *sorted(out[name], key=key))
	EOF
}

assert_config_untouched() {
	cmp "$BATS_TEST_TMPDIR/config.before" "$ETC/config.json"
	run find "$ETC" -name '.config.json.*'
	assert_output ''
}

# AWS's ip-ranges.json: every prefix under AMAZON, subsets repeated under
# the other services.
write_aws() {
	cat > "$LISTS/ip-ranges.json" <<-'EOF'
	{
	  "syncToken": "1732000000",
	  "createDate": "2026-11-20-10-00-00",
	  "prefixes": [
	    {"ip_prefix": "198.18.0.0/16", "region": "us-east-1", "service": "AMAZON", "network_border_group": "us-east-1"},
	    {"ip_prefix": "198.18.0.0/17", "region": "us-east-1", "service": "EC2", "network_border_group": "us-east-1"},
	    {"ip_prefix": "198.19.0.0/24", "region": "eu-west-1", "service": "AMAZON", "network_border_group": "eu-west-1"},
	    {"ip_prefix": "198.19.0.0/24", "region": "eu-west-1", "service": "CLOUDFRONT", "network_border_group": "eu-west-1"}
	  ],
	  "ipv6_prefixes": [
	    {"ipv6_prefix": "2001:db8:400::/40", "region": "GLOBAL", "service": "AMAZON", "network_border_group": "GLOBAL"},
	    {"ipv6_prefix": "2001:db8:400::/44", "region": "GLOBAL", "service": "S3", "network_border_group": "GLOBAL"}
	  ]
	}
	EOF
}

@test "aws gives AWS's AMAZON set under aws, amazon the same under its old name" {
	write_aws
	update "aws"
	assert_success
	run fetched_ranges
	assert_output 'aws 198.18.0.0/16 198.19.0.0/24 2001:db8:400::/40'
	update "amazon"
	assert_success
	run fetched_ranges
	assert_output 'amazon 198.18.0.0/16 198.19.0.0/24 2001:db8:400::/40'
}

@test "aws split by service: one range per service, the rest of AMAZON under aws" {
	write_aws
	TEXPORTER_AWS_SPLIT=service update "aws"
	assert_success
	run fetched_ranges
	assert_output - <<-'EOF'
	aws-ec2 198.18.0.0/17
	aws-cloudfront 198.19.0.0/24
	aws-s3 2001:db8:400::/44
	aws 198.18.0.0/16 2001:db8:400::/40
	EOF
}

@test "aws split by region: one range per region of the AMAZON set" {
	write_aws
	TEXPORTER_AWS_SPLIT=region update "aws"
	assert_success
	run fetched_ranges
	assert_output - <<-'EOF'
	aws-us-east-1 198.18.0.0/16
	aws-eu-west-1 198.19.0.0/24
	aws-global 2001:db8:400::/40
	EOF
}

@test "an unknown aws split is an error that names the setting" {
	write_aws
	TEXPORTER_AWS_SPLIT=zone update "aws"
	assert_failure 1
	assert_output --partial "TEXPORTER_AWS_SPLIT='zone': expected none, service or region"
	assert_config_untouched
}

# Google's goog.json holds cloud.json's addresses too.
write_google() {
	cat > "$LISTS/goog.json" <<-'EOF'
	{
	  "syncToken": "1732000000000",
	  "creationTime": "2026-11-20T10:00:00.000000",
	  "prefixes": [{
	    "ipv4Prefix": "198.51.100.0/24"
	  }, {
	    "ipv4Prefix": "203.0.113.0/24"
	  }, {
	    "ipv6Prefix": "2001:db8:100::/40"
	  }]
	}
	EOF
	cat > "$LISTS/cloud.json" <<-'EOF'
	{
	  "syncToken": "1732000000000",
	  "creationTime": "2026-11-20T10:00:00.000000",
	  "prefixes": [{
	    "ipv4Prefix": "198.51.100.64/26",
	    "service": "Google Cloud",
	    "scope": "europe-west3"
	  }, {
	    "ipv4Prefix": "203.0.113.0/24",
	    "service": "Google Cloud",
	    "scope": "us-east1"
	  }, {
	    "ipv6Prefix": "2001:db8:1ff::/48",
	    "service": "Google Cloud",
	    "scope": "us-east1"
	  }]
	}
	EOF
}

@test "google is goog.json minus cloud.json, cut into exact prefixes" {
	write_google
	update "google"
	assert_success
	run fetched_ranges
	# 2001:db8:100::/40 without 2001:db8:1ff::/48: a /41, a /42, ... a /48.
	assert_output 'google 198.51.100.0/26 198.51.100.128/25 2001:db8:100::/41 2001:db8:180::/42 2001:db8:1c0::/43 2001:db8:1e0::/44 2001:db8:1f0::/45 2001:db8:1f8::/46 2001:db8:1fc::/47 2001:db8:1fe::/48'
}

@test "google-cloud is cloud.json" {
	write_google
	update "google-cloud google"
	assert_success
	run fetched_ranges
	assert_output - <<-'EOF'
	google-cloud 198.51.100.64/26 203.0.113.0/24 2001:db8:1ff::/48
	google 198.51.100.0/26 198.51.100.128/25 2001:db8:100::/41 2001:db8:180::/42 2001:db8:1c0::/43 2001:db8:1e0::/44 2001:db8:1f0::/45 2001:db8:1f8::/46 2001:db8:1fc::/47 2001:db8:1fe::/48
	EOF
}

# Azure's ServiceTags_Public_<date>.json: the AzureCloud tags (no service)
# hold every service's prefixes.
write_azure() {
	cat > "$LISTS/${1:-ServiceTags_Public_20261123.json}" <<-'EOF'
	{
	  "changeNumber": 341,
	  "cloud": "Public",
	  "values": [
	    {
	      "name": "AzureCloud.westeurope",
	      "id": "AzureCloud.westeurope",
	      "properties": {
	        "changeNumber": 77,
	        "region": "westeurope",
	        "regionId": 18,
	        "platform": "Azure",
	        "systemService": "",
	        "addressPrefixes": [
	          "192.0.2.0/24",
	          "2001:db8:a00::/40"
	        ],
	        "networkFeatures": ["API", "NSG", "UDR", "FW"]
	      }
	    },
	    {
	      "name": "Storage.WestEurope",
	      "id": "Storage.WestEurope",
	      "properties": {
	        "changeNumber": 12,
	        "region": "westeurope",
	        "regionId": 18,
	        "platform": "Azure",
	        "systemService": "AzureStorage",
	        "addressPrefixes": [
	          "192.0.2.0/25"
	        ],
	        "networkFeatures": ["API", "NSG"]
	      }
	    },
	    {
	      "name": "ActionGroup",
	      "id": "ActionGroup",
	      "properties": {
	        "changeNumber": 40,
	        "region": "",
	        "regionId": 0,
	        "platform": "Azure",
	        "systemService": "ActionGroup",
	        "addressPrefixes": [
	          "192.0.2.200/30",
	          "2001:db8:a00:1::/64"
	        ],
	        "networkFeatures": ["API", "NSG", "UDR", "FW"]
	      }
	    }
	  ]
	}
	EOF
}

@test "azure is every service tag under one name by default" {
	write_azure
	update "azure"
	assert_success
	run fetched_ranges
	assert_output 'azure 192.0.2.0/24 192.0.2.0/25 192.0.2.200/30 2001:db8:a00::/40 2001:db8:a00:1::/64'
}

@test "azure grouped by service: one range per service, the AzureCloud tags under azure" {
	write_azure
	TEXPORTER_AZURE_GROUP=service update "azure"
	assert_success
	run fetched_ranges
	assert_output - <<-'EOF'
	azure-actiongroup 192.0.2.200/30 2001:db8:a00:1::/64
	azure-azurestorage 192.0.2.0/25
	azure 192.0.2.0/24 2001:db8:a00::/40
	EOF
}

@test "azure reads the newest ServiceTags_Public file of --from-dir" {
	write_azure ServiceTags_Public_20261116.json
	write_azure
	sed -i 's#192.0.2.200/30#192.0.2.204/30#' "$LISTS/ServiceTags_Public_20261116.json"
	update "azure"
	assert_success
	run fetched_ranges
	assert_output --partial '192.0.2.200/30'
}

@test "cloudflare, fastly, oracle and github read their published lists" {
	printf '173.245.48.0/20\n103.21.244.0/22\n' > "$LISTS/ips-v4"
	printf '2400:cb00::/32\n2606:4700::/32' > "$LISTS/ips-v6"
	cat > "$LISTS/public-ip-list" <<-'EOF'
	{"addresses":["23.235.32.0/20","151.101.0.0/16"],"ipv6_addresses":["2a04:4e40::/32"]}
	EOF
	cat > "$LISTS/public_ip_ranges.json" <<-'EOF'
	{
	  "last_updated_timestamp": "2026-11-20T10:00:00.000000",
	  "regions": [
	    {
	      "region": "eu-frankfurt-1",
	      "cidrs": [
	        {"cidr": "130.61.0.0/16", "tags": ["OCI"]},
	        {"cidr": "134.70.24.0/21", "tags": ["OSN", "OBJECT_STORAGE"]}
	      ]
	    },
	    {
	      "region": "us-ashburn-1",
	      "cidrs": [
	        {"cidr": "2603:c020::/32", "tags": ["OCI"]}
	      ]
	    }
	  ]
	}
	EOF
	cat > "$LISTS/meta" <<-'EOF'
	{
	  "verifiable_password_authentication": false,
	  "ssh_key_fingerprints": {"SHA256_ED25519": "+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU"},
	  "ssh_keys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"],
	  "hooks": ["192.30.252.0/22", "2a0a:a440::/29"],
	  "web": ["192.30.252.0/22", "140.82.112.3/32"],
	  "actions": ["4.148.0.0/16"],
	  "domains": {"website": ["*.github.com"]}
	}
	EOF
	update "cloudflare fastly oracle github"
	assert_success
	run fetched_ranges
	assert_output - <<-'EOF'
	cloudflare 103.21.244.0/22 173.245.48.0/20 2400:cb00::/32 2606:4700::/32
	fastly 23.235.32.0/20 151.101.0.0/16 2a04:4e40::/32
	oracle 130.61.0.0/16 134.70.24.0/21 2603:c020::/32
	github 140.82.112.3/32 192.30.252.0/22 2a0a:a440::/29
	EOF
}

# Two RIR statistics files in the extended format: version line, summary
# lines, then registry|cc|type|start|value|date|status|opaque-id records.
write_rirs() {
	cat > "$LISTS/delegated-ripencc-extended-latest" <<-'EOF'
	2.3|ripencc|1732060800|7|19830705|20261119|+0100
	ripencc|*|asn|*|1|summary
	ripencc|*|ipv4|*|4|summary
	ripencc|*|ipv6|*|2|summary
	ripencc|DE|asn|3320|1|19930901|allocated|5e1ba3b3-a2d2-4fd4-a0f6-2b1a2ed2ef04
	ripencc|DE|ipv4|198.18.0.0|768|20100101|allocated|5e1ba3b3-a2d2-4fd4-a0f6-2b1a2ed2ef04
	ripencc|FR|ipv4|198.18.4.0|1000|20110101|assigned|aa7f5df2-4b2b-4fe3-9e5c-5d1b3c6c8b2e
	ripencc||ipv4|198.18.8.0|256||available|
	ripencc|ZZ|ipv4|198.18.9.0|256||reserved|
	ripencc|DE|ipv6|2001:db8:d000::|36|20100101|allocated|5e1ba3b3-a2d2-4fd4-a0f6-2b1a2ed2ef04
	EOF
	cat > "$LISTS/delegated-arin-extended-latest" <<-'EOF'
	# ARIN's file starts with comments
	2.3|arin|1732060800|3|19700101|20261119|-0500
	arin|*|ipv4|*|2|summary
	arin|*|ipv6|*|1|summary
	arin|US|ipv4|198.19.0.0|3072|19990101|allocated|f3bfa0b7cc4f38fd0e9c8ea0a67b3df3
	arin|CA|ipv4|198.19.12.0|256|19990101|assigned|0fa1f0a9b0c6e2b9e1e8d7f6c5b4a392
	arin|US|ipv6|2001:db8:e000::|36|20050101|allocated|f3bfa0b7cc4f38fd0e9c8ea0a67b3df3
	EOF
	local rir
	for rir in afrinic apnic lacnic; do
		printf '2|%s|20261119|0|19700101|20261119|+0000\n' "$rir" \
			> "$LISTS/delegated-$rir-extended-latest"
	done
}

@test "countries give each wanted country's records as exact CIDRs" {
	write_rirs
	TEXPORTER_COUNTRIES="de us" update "countries"
	assert_success
	run fetched_ranges
	# 768 addresses are a /23 and a /24; 3072 a /21 and a /22.
	assert_output - <<-'EOF'
	DE 198.18.0.0/23 198.18.2.0/24 2001:db8:d000::/36
	US 198.19.0.0/21 198.19.8.0/22 2001:db8:e000::/36
	EOF
}

@test "countries=all equals Python's ipaddress cover of every allocated or assigned record" {
	write_rirs
	TEXPORTER_COUNTRIES=all update "countries"
	assert_success
	run fetched_ranges
	local got=$output
	COUNTRIES="CA DE FR US" run expected_by_ipaddress "$LISTS"/delegated-*
	assert_success
	assert_equal "$got" "$output"
	# 1000 addresses from 198.18.4.0: /23 /24 /25 /26 /27 /29.
	assert_line 'FR 198.18.4.0/23 198.18.6.0/24 198.18.7.0/25 198.18.7.128/26 198.18.7.192/27 198.18.7.224/29'
}

@test "countries without TEXPORTER_COUNTRIES is an error that names the setting" {
	write_rirs
	update "countries"
	assert_failure 1
	assert_output --partial 'TEXPORTER_COUNTRIES="DE FR US"'
	assert_config_untouched
}

# IPtoASN's tables: range_start range_end AS_number country description.
write_ip2asn() {
	printf '%s\t%s\t%s\t%s\t%s\n' \
		0.0.0.0 0.255.255.255 0 None "Not routed" \
		198.18.0.0 198.18.2.255 2906 US "AS-SSI" \
		198.18.3.0 198.18.3.9 13335 US "CLOUDFLARENET" \
		198.18.4.1 198.18.4.254 2906 US "AS-SSI" \
		198.18.5.0 198.18.5.255 64500 DE "EXAMPLE" > "$LISTS/ip2asn-v4.tsv"
	printf '%s\t%s\t%s\t%s\t%s\n' \
		2001:db8:f000:: 2001:db8:f001:ffff:ffff:ffff:ffff:ffff 2906 US "AS-SSI" \
		2001:db8:f100:: 2001:db8:f100::ff 13335 US "CLOUDFLARENET" > "$LISTS/ip2asn-v6.tsv"
}

@test "asns give each named AS's ranges as exact CIDRs, as Python's ipaddress does" {
	write_ip2asn
	TEXPORTER_ASNS="netflix=2906 cf=AS13335" update "asns"
	assert_success
	run fetched_ranges
	local got=$output
	NAMES="2906=netflix 13335=cf" run expected_by_ipaddress "$LISTS"/ip2asn-v4.tsv "$LISTS"/ip2asn-v6.tsv
	assert_success
	# expected_by_ipaddress sorts by name; the config keeps TEXPORTER_ASNS' order.
	assert_equal "$(sort <<<"$got")" "$output"
	assert_line --index 1 'netflix 198.18.0.0/23 198.18.2.0/24 198.18.4.1/32 198.18.4.2/31 198.18.4.4/30 198.18.4.8/29 198.18.4.16/28 198.18.4.32/27 198.18.4.64/26 198.18.4.128/26 198.18.4.192/27 198.18.4.224/28 198.18.4.240/29 198.18.4.248/30 198.18.4.252/31 198.18.4.254/32 2001:db8:f000::/47'
}

@test "asns read gzip-compressed tables as published" {
	write_ip2asn
	gzip "$LISTS/ip2asn-v4.tsv" "$LISTS/ip2asn-v6.tsv"
	TEXPORTER_ASNS="cf=13335" update "asns"
	assert_success
	run fetched_ranges
	assert_output 'cf 198.18.3.0/29 198.18.3.8/31 2001:db8:f100::/120'
}

# Serve LISTS over HTTP from NS_B at http://IP4_B:8080/, and run the
# updates in NS_A without --from-dir.
serve_lists() {
	tx_bg "$NS_B" "$PYTHON" -m http.server 8080 --bind "$IP4_B" --directory "$LISTS"
	tx_wait_until 5 tx_in "$NS_A" "$PYTHON" -c \
		'import socket, sys; socket.create_connection((sys.argv[1], 8080), 1)' "$IP4_B"
	FROM=()
	IN_NS=(tx_in "$NS_A")
}

@test "lists are downloaded over HTTP, Azure's through its download page, IPtoASN's gzipped" {
	tx_setup_pair
	write_azure
	write_ip2asn
	gzip "$LISTS/ip2asn-v4.tsv" "$LISTS/ip2asn-v6.tsv"
	local base=http://$IP4_B:8080
	mkdir "$LISTS/download"
	printf '<html><body><a href="%s/ServiceTags_Public_20261123.json">Download</a></body></html>\n' \
		"$base" > "$LISTS/download/details.aspx"
	serve_lists
	TEXPORTER_RANGES_AZURE="$base/download/details.aspx?id=56519" \
		TEXPORTER_RANGES_ASNS="$base/ip2asn-v4.tsv.gz $base/ip2asn-v6.tsv.gz" \
		TEXPORTER_ASNS="cf=13335" update "azure asns"
	assert_success
	run fetched_ranges
	assert_output - <<-'EOF'
	azure 192.0.2.0/24 192.0.2.0/25 192.0.2.200/30 2001:db8:a00::/40 2001:db8:a00:1::/64
	cf 198.18.3.0/29 198.18.3.8/31 2001:db8:f100::/120
	EOF
	run cat "$TX_BG_LOG"
	assert_output --partial '"GET /download/details.aspx?id=56519 HTTP/1.1" 200'
	assert_output --partial '"GET /ServiceTags_Public_20261123.json HTTP/1.1" 200'
}

@test "an Azure download page without a link to the file is an error that names the fix" {
	tx_setup_pair
	mkdir "$LISTS/download"
	printf '<html><body>Please try again later.</body></html>\n' > "$LISTS/download/details.aspx"
	serve_lists
	TEXPORTER_RANGES_AZURE="http://$IP4_B:8080/download/details.aspx?id=56519" update "azure"
	assert_failure 1
	assert_output --partial 'no link to ServiceTags_Public_<date>.json; set TEXPORTER_RANGES_AZURE'
	assert_config_untouched
}

@test "a name from two sources is an error before anything is replaced" {
	write_rirs
	write_ip2asn
	TEXPORTER_COUNTRIES=US TEXPORTER_ASNS="US=2906" update "countries asns"
	assert_failure 1
	assert_output --partial "range name 'US' comes from both 'countries' and 'asns'"
	assert_output --partial 'left unchanged'
	assert_config_untouched
}

@test "one prefix under two countries fails naming both files and lines" {
	write_rirs
	echo 'arin|CA|ipv6|2001:db8:d000::|36|20100101|allocated|x' >> "$LISTS/delegated-arin-extended-latest"
	TEXPORTER_COUNTRIES=all update "countries"
	assert_failure 1
	assert_output --partial "delegated-ripencc-extended-latest:10: 2001:db8:d000::/36 is 'DE' here but 'CA' at"
	assert_output --partial "delegated-arin-extended-latest:8;"
	assert_config_untouched
}

@test "static ranges win over fetched ones" {
	write_rirs
	tx_write_config "$ETC/static.json" lab=198.18.0.0/23
	TEXPORTER_COUNTRIES=DE update "countries"
	assert_success
	assert_output --partial "1 prefix(es) of 'DE' are also in 'lab'; kept in 'lab'"
	run fetched_ranges
	assert_output - <<-'EOF'
	lab 198.18.0.0/23
	DE 198.18.2.0/24 2001:db8:d000::/36
	EOF
}

# malformed FILE LINE CONTENT SOURCES MESSAGE: a list whose line LINE is
# replaced by CONTENT fails with FILE:LINE and MESSAGE, config untouched.
malformed() {
	local file=$1 line=$2 content=$3 sources=$4 message=$5
	sed -i "${line}c\\$content" "$LISTS/$file"
	TEXPORTER_COUNTRIES=all TEXPORTER_ASNS="n=2906" update "$sources"
	assert_failure 1
	assert_output --partial "$LISTS/$file:$line"
	assert_output --partial "$message"
	assert_output --partial 'left unchanged'
	assert_config_untouched
}

@test "a malformed RIR record fails naming the file and line" {
	write_rirs
	malformed delegated-arin-extended-latest 5 'arin|US|ipv4|198.19.0.0|lots|19990101|allocated|x' \
		countries "address count 'lots' is not a positive number"
}

@test "an RIR record past the end of IPv4 fails naming the file and line" {
	write_rirs
	malformed delegated-arin-extended-latest 5 'arin|US|ipv4|255.255.255.0|512|19990101|allocated|x' \
		countries "255.255.255.0 + 512 addresses is not an IPv4 range"
}

@test "a truncated RIR record fails naming the file and line" {
	write_rirs
	malformed delegated-ripencc-extended-latest 6 'ripencc|DE|ipv4|198.18.0.0' \
		countries 'expected registry|cc|type|start|value|date|status'
}

@test "an RIR IPv6 record that is not a prefix fails naming the file and line" {
	write_rirs
	malformed delegated-ripencc-extended-latest 10 'ripencc|DE|ipv6|2001:db8:d000::|20|20100101|allocated|x' \
		countries '2001:db8:d000::/20 has host bits set'
}

@test "an IPtoASN range that ends before it starts fails naming the file and line" {
	write_ip2asn
	malformed ip2asn-v4.tsv 2 "$(printf '198.18.2.255\t198.18.0.0\t2906\tUS\tAS-SSI')" \
		asns 'is not a range of addresses'
}

@test "a bad prefix in a provider's JSON fails naming the file and line" {
	write_aws
	malformed ip-ranges.json 7 '    {"ip_prefix": "198.19.0.0/33", "region": "eu-west-1", "service": "AMAZON", "network_border_group": "eu-west-1"},' \
		aws 'prefixes[2].ip_prefix'
}

@test "a JSON syntax error fails naming the file, line and column" {
	write_azure
	malformed ServiceTags_Public_20261123.json 14 '        "addressPrefixes": [,' \
		azure 'Expecting value'
}

@test "a bad line in a plain list fails naming the file and line" {
	printf '173.245.48.0/20\n<html>\n' > "$LISTS/ips-v4"
	printf '2400:cb00::/32\n' > "$LISTS/ips-v6"
	update "cloudflare"
	assert_failure 1
	assert_output --partial "$LISTS/ips-v4:2"
	assert_config_untouched
}

@test "--dry-run prints each range's added and removed prefixes before the config" {
	write_rirs
	TEXPORTER_COUNTRIES="DE FR" update "countries" --dry-run
	assert_success
	assert_config_untouched
	cp "$ETC/config.json" "$BATS_TEST_TMPDIR/config.before"
	TEXPORTER_COUNTRIES="DE FR" update "countries"
	assert_success
	sed -i 's/^ripencc|DE|ipv4|198.18.0.0|768|/ripencc|DE|ipv4|198.18.0.0|512|/' \
		"$LISTS/delegated-ripencc-extended-latest"
	cp "$ETC/config.json" "$BATS_TEST_TMPDIR/config.before"
	TEXPORTER_COUNTRIES="DE US" update "countries" --dry-run
	assert_success
	assert_line --index 0 "--- $ETC/config.json"
	assert_line --index 1 '+++ new config'
	assert_line --index 2 'range DE: +0 -1 prefixes'
	assert_line --index 3 '- DE 198.18.2.0/24'
	assert_line --index 4 'new range US: +3 -0 prefixes'
	assert_line --index 5 '+ US 198.19.0.0/21'
	assert_line --index 6 '+ US 198.19.8.0/22'
	assert_line --index 7 '+ US 2001:db8:e000::/36'
	assert_line --index 8 'removed range FR: +0 -6 prefixes'
	assert_line --index 15 '['
	assert_config_untouched
}

# Counted bytes per "family src" in the reader output $output, for frames
# to the static range private: "ipv4 DE 300" lines, sorted.
bytes_to_private() {
	grep '^texporter_captured_bytes_total{' <<<"$output" | grep 'dst="private"' |
		sed -E 's/.*family="([^"]*)",src="([^"]*)".*\} ([0-9]+)$/\1 \2 \3/' | sort
}

@test "every country from a synthetic 5-RIR set of 200,000 records loads and counts exactly" {
	tx_setup_bpffs
	tx_setup_pair
	"$PYTHON" "$TX_TOOLS/rirgen.py" "$LISTS" --records 200000 > "$BATS_TEST_TMPDIR/probes.json"
	TEXPORTER_COUNTRIES=all update "countries"
	assert_success
	assert_output --regexp 'replaced .*: 251 ranges, [0-9]{6} IPv4 and [0-9]{5} IPv6 prefixes'
	run tx_load "$NS_A" -i "$IF_A" -f "$ETC/config.json"
	assert_success
	assert_output --regexp 'prefixes in 251 ranges'
	# The table's memory, as the loader reports it.
	run tx_load "$NS_A" --status -i "$IF_A"
	assert_success
	assert_output --regexp 'trie: [0-9]+ entries \([0-9]+ KiB\) in a map of [0-9]+ KiB'
	# Probe i: i+2 frames of 100+i bytes from the probe address to IF_A.
	# The expected totals come from the generator's records, "other" for
	# available space.
	local expected i=0 address
	expected=$("$PYTHON" - "$BATS_TEST_TMPDIR/probes.json" <<-'EOF'
		import json, sys
		totals = {}
		for i, p in enumerate(json.load(open(sys.argv[1]))):
		    key = ("ipv6" if ":" in p["address"] else "ipv4", p["country"] or "other")
		    totals[key] = totals.get(key, 0) + (i + 2) * (100 + i)
		for (family, src), total in sorted(totals.items()):
		    print(family, src, total)
	EOF
	)
	[[ $(wc -l <<<"$expected") -ge 5 && $expected == *"ipv4 other "* ]]
	for address in $("$PYTHON" -c 'import json, sys
print(*[p["address"] for p in json.load(open(sys.argv[1]))])' "$BATS_TEST_TMPDIR/probes.json"); do
		local dst=$IP4_A
		[[ $address == *:* ]] && dst=$IP6_A
		run tx_sendraw "$NS_B" --iface "$IF_B" --src "$address" --dst "$dst" \
			--count $((i + 2)) --l3-size $((100 + i))
		assert_success
		i=$((i + 1))
	done
	run tx_read "$NS_A"
	assert_success
	run bytes_to_private
	assert_output "$(sort <<<"$expected")"
}
