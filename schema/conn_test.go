package schema

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

func TestIsServerError(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&mysql.MyError{Code: mysql.ER_NO_SUCH_TABLE}, true},
		{fmt.Errorf("wrapped: %w", &mysql.MyError{Code: mysql.ER_BAD_FIELD_ERROR}), true},
		{&mysql.MyError{Code: 1927}, false}, // connection killed: the connection is gone
		{&mysql.MyError{Code: 4031}, false},
		{&mysql.MyError{Code: 1053}, false},
		{io.EOF, false},
		{errors.New("broken pipe"), false},
	}
	for _, tt := range tests {
		if got := isServerError(tt.err); got != tt.want {
			t.Errorf("isServerError(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
