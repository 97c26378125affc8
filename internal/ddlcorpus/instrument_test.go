package ddlcorpus

import "testing"

func TestInstrument(t *testing.T) {
	src := "create table t1 (a int);\n--error ER_BAD_TABLE_ERROR\n--disable_warnings\ndrop table t2;\ndrop table t1;\n--source include/restart_mysqld.inc\ndelimiter |;\ndrop table t3|\ndelimiter ;|\nalter table t4\ndrop column a;\n"
	want := "create table t1 (a int);\n--exec curl -s -o /dev/null U || true\n--error ER_BAD_TABLE_ERROR\n--disable_warnings\ndrop table t2;\ndrop table t1;\n# rivulet: --source include/restart_mysqld.inc\ndelimiter |;\ndrop table t3|\ndelimiter ;|\nalter table t4\ndrop column a;\n"
	if got := instrument(src, "U"); got != want {
		t.Errorf("instrument:\n%s\nwant:\n%s", got, want)
	}
}
