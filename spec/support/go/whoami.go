// A grpc-go client on etcd's resolver, as the README's Go snippet writes it: it dials
// etcd:///<target> (with grpc.WithAuthority when an authority is given) and calls the test servers'
// /gsr.test.Echo/WhoAmI method, printing who answered.
//
//	whoami <etcd endpoint> <target> <authority or "">
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/clientv3/naming/resolver"
	"google.golang.org/grpc"
)

func main() {
	endpoint, target, authority := os.Args[1], os.Args[2], os.Args[3]
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 5 * time.Second})
	if err != nil {
		fmt.Println("etcd:", err)
		os.Exit(2)
	}
	defer cli.Close()
	builder, err := resolver.NewBuilder(cli)
	if err != nil {
		fmt.Println("resolver:", err)
		os.Exit(2)
	}
	options := []grpc.DialOption{
		grpc.WithResolvers(builder),
		grpc.WithInsecure(),
		grpc.WithDefaultServiceConfig(`{"loadBalancingPolicy":"round_robin"}`),
	}
	if authority != "" {
		options = append(options, grpc.WithAuthority(authority))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := grpc.DialContext(ctx, "etcd:///"+target, options...)
	if err != nil {
		fmt.Println("dial:", err)
		os.Exit(2)
	}
	defer conn.Close()
	var out []byte
	if err := conn.Invoke(ctx, "/gsr.test.Echo/WhoAmI", []byte("{}"), &out, grpc.WaitForReady(true), grpc.ForceCodec(rawCodec{})); err != nil {
		fmt.Println("call:", err)
		os.Exit(1)
	}
	fmt.Println("answered by", string(out))
}

type rawCodec struct{}

func (rawCodec) Marshal(v interface{}) ([]byte, error) { return v.([]byte), nil }
func (rawCodec) Unmarshal(data []byte, v interface{}) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "raw" }
