package config

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
)

// Why aws-sdk-go-v2 rather than an own SigV4: the signature is 100 lines,
// but the credential chain is not. Users on EKS sign with IRSA (a web
// identity token exchanged at STS, refreshed before it expires), others
// with profiles, SSO, credential processes, ECS task roles or EC2 instance
// roles; aws-sdk-go-v2/config resolves all of them exactly as the AWS CLI
// and the Kafka MSK IAM library do, and caches and refreshes the
// credentials. Only the presigning below is ours (the SDK's rds/auth
// builder reads time.Now itself, so it cannot be tested against a fixed
// vector); it follows that builder step for step.

// rdsTokenLifetime is X-Amz-Expires of an RDS IAM token; RDS accepts a
// token for 15 minutes, so each new connection signs a fresh one.
const rdsTokenLifetime = 900

// rdsNow is the signing clock; tests move it.
var rdsNow = time.Now

// rdsAuthToken presigns the rds-db:connect action for user at host:port,
// as AWS's RDS auth token builders do: a GET of
// https://host:port/?Action=connect&DBUser=user with X-Amz-Expires=900,
// SigV4 query-signed for service rds-db, without the scheme.
func rdsAuthToken(ctx context.Context, host string, port int, region, user string, creds aws.Credentials, now time.Time) (string, error) {
	endpoint := "https://" + net.JoinHostPort(host, strconv.Itoa(port)) + "/"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return "", err
	}
	q := url.Values{}
	q.Set("Action", "connect")
	q.Set("DBUser", user)
	q.Set("X-Amz-Expires", strconv.Itoa(rdsTokenLifetime))
	req.URL.RawQuery = q.Encode()
	const emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	signed, _, err := v4.NewSigner().PresignHTTP(ctx, creds, req, emptyPayloadHash, "rds-db", region, now.UTC())
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(signed, "https://"), nil
}

// iamRegion resolves the region of an IAM-authenticated database from
// configuration alone: database.iam.region, else the RDS host name, else
// AWS_REGION / AWS_DEFAULT_REGION. "" means the profile must say.
func iamRegion(d Database) (string, *FieldError) {
	if d.IAM.Region != "" {
		return d.IAM.Region, nil
	}
	if r := rdsRegion(d.Hostname); r != "" {
		return r, nil
	}
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if v := strings.TrimSpace(os.Getenv(k)); v != "" {
			return v, nil
		}
	}
	return "", nil
}

// newRDSTokenSource returns a password function that signs a new token on
// every call with credentials from the standard AWS chain.
func newRDSTokenSource(d Database) (func(context.Context) (string, error), error) {
	region, ferr := iamRegion(d)
	if ferr != nil {
		return nil, ferr
	}
	opts := []func(*awsconfig.LoadOptions) error{}
	if d.IAM.Profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(d.IAM.Profile))
	}
	if region != "" {
		opts = append(opts, awsconfig.WithRegion(region))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background(), opts...)
	if err != nil {
		return nil, invalid(keyIAMProfile, d.IAM.Profile, "does not load ("+err.Error()+")",
			"fix the AWS shared config (~/.aws/config, AWS_CONFIG_FILE) or set database.iam.profile to an existing profile")
	}
	if awsCfg.Region == "" {
		return nil, invalid(keyIAMRegion, "", "is not set, and neither the host name nor AWS_REGION nor the profile names a region",
			"set database.iam.region to the database's region, such as eu-west-1")
	}
	region = awsCfg.Region
	creds := awsCfg.Credentials
	host, port, user := d.Hostname, d.Port, d.User
	return func(ctx context.Context) (string, error) {
		c, err := creds.Retrieve(ctx)
		if err != nil {
			return "", fmt.Errorf("get AWS credentials for IAM database authentication (%s): %w; give Rivulet an AWS identity: on EKS an IRSA service account (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE), else AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or database.iam.profile",
				keyIAMEnabled, err)
		}
		return rdsAuthToken(ctx, host, port, region, user, c, rdsNow())
	}, nil
}
