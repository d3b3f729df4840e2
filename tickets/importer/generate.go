package importer

import (
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// GeneratedColumns are the columns GenerateCSV writes, as read by
// testdata/generated-mapping.yaml.
func GeneratedColumns() []string {
	return []string{
		"ticket_id", "title", "body", "via", "requester_name", "requester_email",
		"requester_phone", "requester_id", "prio", "state", "category", "lang",
		"labels", "group", "agent", "created", "solved_at", "satisfaction",
	}
}

// GenerateCSV writes a header and n realistic legacy tickets, a mix of
// Chinese and English, in the shape of a help-desk export: quoted commas
// and line breaks in bodies, Shanghai local times, every status. The same
// seed gives the same file. Every row is valid under
// testdata/generated-mapping.yaml, so n rows import as n tickets; it feeds
// tests and the import benchmark.
func GenerateCSV(w io.Writer, n int, seed int64) error {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
	cw := csv.NewWriter(w)
	if err := cw.Write(GeneratedColumns()); err != nil {
		return fmt.Errorf("importer: generate: %w", err)
	}
	base := time.Date(2022, 1, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	v := newVocabulary()
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	for i := range n {
		zh := rng.IntN(3) < 2 // two thirds Chinese, like the contact centre's traffic
		topic := v.topics[rng.IntN(len(v.topics))]
		order := strconv.Itoa(100000 + rng.IntN(900000))
		var title, body, name, lang string
		if zh {
			title = strings.ReplaceAll(pick(topic.zhTitles), "{order}", order)
			body = strings.ReplaceAll(pick(topic.zhBodies), "{order}", order)
			name = pick(v.zhSurnames) + pick(v.zhGiven)
			lang = "zh"
		} else {
			title = strings.ReplaceAll(pick(topic.enTitles), "{order}", order)
			body = strings.ReplaceAll(pick(topic.enBodies), "{order}", order)
			name = pick(v.enFirst) + " " + pick(v.enLast)
			lang = "en"
		}
		if rng.IntN(5) == 0 {
			body += "\n\n" + pick(v.signatures)
		}
		created := base.Add(time.Duration(rng.Int64N(int64(3 * 365 * 24 * time.Hour)))).Truncate(time.Second)
		state := pick([]string{"solved", "solved", "solved", "closed", "closed", "open", "pending", "new"})
		solved, sat := "", ""
		if state == "solved" || state == "closed" {
			solved = created.Add(time.Duration(10+rng.IntN(72*60)) * time.Minute).Format(time.DateTime)
			if rng.IntN(3) == 0 {
				sat = strconv.Itoa(1 + rng.IntN(5))
			}
		}
		labels := []string{topic.tag}
		if rng.IntN(4) == 0 {
			labels = append(labels, pick([]string{"vip", "回访", "repeat", "escalated", "微信"}))
		}
		rec := []string{
			fmt.Sprintf("ZD-%07d", i+1),
			title,
			body,
			pick([]string{"phone", "phone", "web", "mail", "wechat", "api"}),
			name,
			fmt.Sprintf("customer%d@example.com", rng.IntN(50000)),
			fmt.Sprintf("+86 1%02d %04d %04d", 30+rng.IntN(60), rng.IntN(10000), rng.IntN(10000)),
			fmt.Sprintf("C%06d", rng.IntN(50000)),
			strconv.Itoa(1 + rng.IntN(4)),
			state,
			topic.category,
			lang,
			strings.Join(labels, ";"),
			topic.group,
			pick([]string{"agent.li", "agent.wang", "agent.chen", "agent.smith", ""}),
			created.Format(time.DateTime),
			solved,
			sat,
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("importer: generate: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("importer: generate: %w", err)
	}
	return nil
}

type topic struct {
	category, group, tag string
	zhTitles, zhBodies   []string
	enTitles, enBodies   []string
}

// vocabulary is the generator's word lists; a function rather than package
// variables, so nothing can change them between runs.
type vocabulary struct {
	topics                      []topic
	zhSurnames, zhGiven         []string
	enFirst, enLast, signatures []string
}

func newVocabulary() vocabulary {
	return vocabulary{topics: []topic{
		{
			category: "refund", group: "billing", tag: "退款",
			zhTitles: []string{"订单{order}退款还没到账", "申请退款，订单号{order}", "退款进度查询"},
			zhBodies: []string{"你好，我在上周申请了订单{order}的退款，到现在还没有收到，请帮忙查一下。", "商品有质量问题，已经寄回，请尽快处理退款，谢谢！"},
			enTitles: []string{"Refund for order #{order} not received", "Where is my refund?"},
			enBodies: []string{"Hi, I returned order {order} two weeks ago, but the refund has not arrived yet. Can you check, please?", "The item was damaged, so I sent it back. Please refund it, thanks."},
		},
		{
			category: "delivery", group: "logistics", tag: "物流",
			zhTitles: []string{"快递一直没有更新", "订单{order}显示已签收但没收到", "能否修改收货地址"},
			zhBodies: []string{"订单{order}的物流信息三天没有更新了，是不是丢件了？", "快递显示已签收，但是我家里没人收到，请核实。"},
			enTitles: []string{"Package not delivered", "Tracking for order {order} has not moved", "Change delivery address"},
			enBodies: []string{"My package, order {order}, says delivered, but nothing arrived. Neighbours did not get it either.", "Tracking has not updated in 4 days. Is it lost, or just delayed?"},
		},
		{
			category: "account", group: "support", tag: "账户",
			zhTitles: []string{"无法登录账户", "收不到验证码", "账户被锁定了"},
			zhBodies: []string{"手机号换了，收不到短信验证码，没法登录，怎么办？", "输错几次密码后账户被锁，请帮我解锁。"},
			enTitles: []string{"Cannot log in", "Password reset e-mail never arrives", "Account locked"},
			enBodies: []string{"I reset my password three times, but the e-mail never comes. Checked spam, too.", "My account got locked after a few wrong passwords; please unlock it."},
		},
		{
			category: "billing", group: "billing", tag: "账单",
			zhTitles: []string{"重复扣款", "发票开错了", "会员费被自动续费"},
			zhBodies: []string{"同一个订单{order}被扣了两次钱，请退回多扣的部分。", "发票抬头写错了，需要重新开具，公司名称见附件。"},
			enTitles: []string{"Charged twice for order {order}", "Wrong invoice address", "Cancel auto-renewal"},
			enBodies: []string{"My card was charged twice, once on Monday and again on Tuesday, for the same order.", "Please cancel my subscription; I did not want it to renew."},
		},
		{
			category: "technical", group: "tech", tag: "故障",
			zhTitles: []string{"App 打开就闪退", "支付页面一直转圈", "网页加载很慢"},
			zhBodies: []string{"更新到最新版本以后，App 一打开就闪退，手机是华为 P40。", "点击支付以后页面一直在加载，试了微信和支付宝都不行。"},
			enTitles: []string{"App crashes on start", "Checkout page keeps spinning", "Error 500 when saving profile"},
			enBodies: []string{"Since the last update, the app crashes immediately on my iPhone 12, iOS 17.", "When I click \"Pay\", the page spins forever. Tried Chrome, Safari, and Firefox."},
		},
		{
			category: "complaint", group: "care", tag: "投诉",
			zhTitles: []string{"投诉客服态度", "等待时间太长", "对处理结果不满意"},
			zhBodies: []string{"电话等了四十分钟才接通，客服还很不耐烦，非常失望。", "问题反映了三次都没有解决，希望有主管跟进。"},
			enTitles: []string{"Complaint about service", "Waited an hour on hold", "Nobody answers my e-mails"},
			enBodies: []string{"I have written three times, and nobody answered. This is not acceptable.", "I waited on hold for an hour, then the call dropped."},
		},
	},
		zhSurnames: []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴"},
		zhGiven:    []string{"伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "杰", "晓明", "丽华"},
		enFirst:    []string{"John", "Mary", "David", "Sarah", "Michael", "Emma", "James", "Olivia"},
		enLast:     []string{"Smith", "Johnson", "Brown", "Taylor", "Wilson", "Lee", "Martin", "Clark"},
		signatures: []string{"谢谢！\n——来自我的 iPhone", "Best regards,\nThe customer", "请尽快回复，急！"},
	}
}
